// What ids, environment variable names and header names may look like. Provider and plan ids end
// up in URLs (`/proxy/<gate>/…`) and CLI arguments, so they are kept to a safe alphabet; model ids
// are what clients send, so they may hold `/`, `:` and `.` as real providers' ids do.

enum NameRules {
    /// Provider and plan ids: `[a-z0-9][a-z0-9._-]*`.
    static func isSimpleID(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, isLowerAlnum(first) else { return false }
        return s.unicodeScalars.allSatisfy { isLowerAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// Model ids, upstream ids and aliases: printable ASCII or any non-ASCII letter, no spaces, no
    /// `*` (reserved for plan patterns).
    static func modelIDProblem(_ s: String) -> String? {
        if s.isEmpty { return "must not be empty" }
        for scalar in s.unicodeScalars {
            if scalar.value <= 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value) {
                return "must not contain spaces or control characters"
            }
            if scalar == "*" { return "must not contain '*' (it is the wildcard of plan patterns)" }
        }
        return nil
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    static func isEnvironmentVariable(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || isASCIILetter(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || isASCIILetter($0) || ("0"..."9").contains($0) }
    }

    /// An HTTP token (RFC 9110 §5.6.2).
    static func isHeaderName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { isASCIILetter($0) || ("0"..."9").contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0) }
    }

    /// A header value may not break the header block.
    static func isHeaderValue(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7f) }
    }

    /// A URL query parameter name we can append without escaping.
    static func isQueryParameter(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { isASCIILetter($0) || ("0"..."9").contains($0) || "-_.~".unicodeScalars.contains($0) }
    }

    private static func isLowerAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
}
