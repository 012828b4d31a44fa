import KeyStore
import SwitchyardJSON

enum KeyListing {
    static func json(_ key: KeyRecord) -> String {
        let o = JSONDocument.object()
        o.set("id", key.id)
        o.set("name", key.name)
        o.set("plan", key.plan)
        o.set("created_at", Int(key.createdAt))
        o.set("revoked", key.revoked)
        if let rpm = key.rpmOverride { o.set("rpm_override", rpm) } else { o.setNull("rpm_override") }
        if let d = key.dailyTokensOverride { o.set("daily_tokens_override", d) } else { o.setNull("daily_tokens_override") }
        return String(decoding: o.serialized(), as: UTF8.self)
    }

    /// UTC ISO-8601 without Foundation.
    static func date(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        // Civil-from-days (Howard Hinnant's public-domain algorithm).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))Z"
    }
}
