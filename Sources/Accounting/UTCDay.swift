/// A calendar day in UTC, counted in days since 1970-01-01. Allowances and daily totals are keyed
/// by it; it sorts like the calendar and converts to and from `YYYY-MM-DD` without Foundation.
public struct UTCDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let millisPerDay: Int64 = 86_400_000

    public let daysSinceEpoch: Int32

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    /// The day containing the instant `millis` (floor division, so instants before 1970 work).
    public init(millis: Int64) {
        let (q, r) = millis.quotientAndRemainder(dividingBy: Self.millisPerDay)
        daysSinceEpoch = Int32(truncatingIfNeeded: r < 0 ? q - 1 : q)
    }

    /// The day of a proleptic Gregorian date; nil for an impossible date.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        // Days-from-civil on a March-based year, so February's length only affects the year's end.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        daysSinceEpoch = Int32(era * 146_097 + doe - 719_468)
    }

    /// Parses `YYYY-MM-DD` (the CLI's `--since`).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// 00:00:00.000 UTC of this day.
    public var startMillis: Int64 { Int64(daysSinceEpoch) * Self.millisPerDay }

    /// 00:00:00.000 UTC of the next day: when a daily allowance resets.
    public var endMillis: Int64 { startMillis + Self.millisPerDay }

    public var next: UTCDay { UTCDay(daysSinceEpoch: daysSinceEpoch + 1) }

    public var components: (year: Int, month: Int, day: Int) {
        let z = Int(daysSinceEpoch) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    public static func < (a: UTCDay, b: UTCDay) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
