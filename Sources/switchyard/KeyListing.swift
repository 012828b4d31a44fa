import Accounting
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

    /// UTC ISO-8601 without Foundation; the calendar is `UTCDay`'s.
    static func date(_ seconds: Int64) -> String {
        let (q, r) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (days, secs) = r < 0 ? (q - 1, Int(r + 86_400)) : (q, Int(r))  // floor, for dates before 1970
        let (y, m, d) = UTCDay(daysSinceEpoch: Int32(truncatingIfNeeded: days)).components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))Z"
    }
}
