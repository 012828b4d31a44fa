// Prices are written as decimals ("2.50" credits per million tokens) and stored as integer
// millionths. The conversion reads the decimal *text*: going through Double would turn 0.29 into
// 289999 micros.

public enum PriceDecimal {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notADecimal
        case negative
        case tooPrecise
        case tooLarge

        public var description: String {
            switch self {
            case .notADecimal: return "a price is a plain decimal number such as 2.50"
            case .negative: return "a price cannot be negative"
            case .tooPrecise: return "a price has at most 6 decimal places (millionths of a credit)"
            case .tooLarge: return "price is too large"
            }
        }
    }

    public static let fractionDigits = 6

    /// "2.50" → 2_500_000. Accepts an optional leading `+`, digits with `_` separators (YAML
    /// allows them), and an optional fraction; no exponents, no `.inf`.
    public static func micros(from text: String) throws(Problem) -> Int64 {
        var rest = Substring(text.filter { $0 != "_" })
        var negative = false
        if rest.first == "+" || rest.first == "-" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
              whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else { throw .notADecimal }

        let significantFraction = fraction.reversed().drop { $0 == "0" }.reversed()
        guard significantFraction.count <= fractionDigits else { throw .tooPrecise }

        var value: Int64 = 0
        let padding = String(repeating: "0", count: fractionDigits - significantFraction.count)
        let digits = String(whole) + String(significantFraction) + padding
        for digit in digits {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = shifted.addingReportingOverflow(Int64(digit.asciiValue! - 48))
            guard !overflow1, !overflow2 else { throw .tooLarge }
            value = added
        }
        if negative && value != 0 { throw .negative }
        return value
    }

    /// 2_500_000 → "2.5": the canonical text used in the digest and messages.
    public static func text(micros: Int64) -> String {
        let whole = micros / 1_000_000, fraction = micros % 1_000_000
        guard fraction != 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: fractionDigits - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
