// Hand-built JSON output. The mock renders its responses as strings rather than through a JSON
// library so the per-chunk cost of a streamed reply stays a few string appends.

enum JSONText {
    /// `s` as a JSON string literal, quotes included.
    static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        appendEscaped(s, to: &out)
        out.append("\"")
        return out
    }

    /// Appends the escaped body of a JSON string literal (no quotes).
    static func appendEscaped(_ s: String, to out: inout String) {
        // Fast path: most mock text needs no escaping at all.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(s)
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// `value` as JSON, or `null` when absent.
    static func quotedOrNull(_ s: String?) -> String {
        s.map(quoted) ?? "null"
    }
}
