#if canImport(Glibc)
import Glibc
#endif
import RouteConfig

/// `SWITCHYARD_<PROVIDER>_BASE_URL` points a provider elsewhere without a rebuild (an egress
/// proxy, a staging endpoint, a mock on another port). Only the URL can change this way.
public enum ProviderBaseURLOverrides {
    /// The variable that overrides `provider`'s base URL.
    public static func variable(for provider: String) -> String {
        "SWITCHYARD_" + String(provider.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_BASE_URL"
    }

    /// A value that cannot be a base URL; the message names the variable, never the value (it
    /// may hold a credential).
    public struct InvalidOverride: Error, CustomStringConvertible {
        public let description: String
    }

    /// Applies the overrides set in the environment; returns one log line per override. The
    /// log shows the URL without credentials or query. Throws for a value that is not an
    /// `http(s)://host[/path]` URL (paths such as `/chat/completions` are appended to it, so a
    /// query or fragment would break every call).
    public static func apply(to config: inout CompiledConfig) throws(InvalidOverride) -> [String] {
        var messages: [String] = []
        for i in config.providers.indices {
            let id = config.providers[i].id
            let name = variable(for: id)
            guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { continue }
            var url = value
            while url.hasSuffix("/") { url.removeLast() }
            let lower = url.lowercased()
            guard let schemeEnd = ["https://", "http://"].first(where: { lower.hasPrefix($0) })?.count else {
                throw InvalidOverride(description: "\(name) must be an http:// or https:// URL")
            }
            let rest = url.dropFirst(schemeEnd)
            let authority = rest.prefix { $0 != "/" }
            guard !authority.isEmpty, !url.contains("?"), !url.contains("#"), !url.contains(where: { $0 == " " || $0.isNewline }) else {
                throw InvalidOverride(description: "\(name) must be a base URL with a host and no query, fragment or spaces (request paths are appended to it)")
            }
            config.providers[i].baseURL = url
            // `user:password@` is not shown.
            let shownAuthority = authority.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            let shown = String(url.prefix(schemeEnd)) + (authority.contains("@") ? "…@" : "") + shownAuthority + String(rest.dropFirst(authority.count))
            messages.append("provider '\(id)': base URL overridden by \(name) → \(shown)")
        }
        return messages
    }
}
