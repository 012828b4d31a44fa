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

    /// Applies the overrides set in the environment; returns one log line per override.
    public static func apply(to config: inout CompiledConfig) -> [String] {
        var messages: [String] = []
        for i in config.providers.indices {
            let id = config.providers[i].id
            let name = variable(for: id)
            guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { continue }
            var url = value
            while url.hasSuffix("/") { url.removeLast() }
            config.providers[i].baseURL = url
            messages.append("provider '\(id)': base URL overridden by \(name) → \(url)")
        }
        return messages
    }
}
