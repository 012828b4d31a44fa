// A provider's base URL: `http(s)://host[:port][/path]`, no query, fragment or credentials
// (credentials belong in environment variables, see ProviderAuth).

enum BaseURLCheck {
    /// The URL without a trailing slash, or a description of what is wrong.
    static func normalize(_ text: String) -> Result<String, URLProblem> {
        let lowered = text.lowercased()
        let schemeLength: Int
        if lowered.hasPrefix("https://") { schemeLength = 8 } else if lowered.hasPrefix("http://") { schemeLength = 7 } else {
            return .failure(URLProblem("must start with http:// or https://"))
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            return .failure(URLProblem("must be ASCII without spaces or control characters"))
        }
        if text.contains("?") { return .failure(URLProblem("must not have a query ('?…'); put auth in 'auth'")) }
        if text.contains("#") { return .failure(URLProblem("must not have a fragment ('#…')")) }
        let afterScheme = text.dropFirst(schemeLength)
        let authority = afterScheme.prefix { $0 != "/" }
        let path = afterScheme.dropFirst(authority.count)
        if authority.contains("@") { return .failure(URLProblem("must not contain credentials; use 'auth'")) }
        if let problem = checkAuthority(authority) { return .failure(problem) }
        if path.contains("//") { return .failure(URLProblem("path must not contain '//'")) }
        var normalized = text.prefix(schemeLength).lowercased() + authority.lowercased() + path
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return .success(normalized)
    }

    private static func checkAuthority(_ authority: Substring) -> URLProblem? {
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {  // IPv6 literal
            guard let close = authority.firstIndex(of: "]") else { return URLProblem("unclosed '[' in host") }
            host = authority[authority.startIndex...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return URLProblem("unexpected text after IPv6 host") }
                port = after.dropFirst()
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return URLProblem("invalid IPv6 host")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                port = authority[authority.index(after: colon)...]
            }
            guard !host.isEmpty else { return URLProblem("has no host") }
            let allowed = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
            guard allowed, !host.hasPrefix("."), !host.hasSuffix("."), !host.contains("..") else {
                return URLProblem("has an invalid host '\(host)'")
            }
        }
        if let port {
            guard let number = Int(port), port.allSatisfy(\.isNumber), (1...65535).contains(number) else {
                return URLProblem("has an invalid port '\(port)'")
            }
        }
        return nil
    }
}

struct URLProblem: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
