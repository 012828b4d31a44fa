import RouteConfig
import UpstreamClient

/// What every chat call to a provider sends besides its body, prepared once at start-up: the URL
/// (with the credential, for providers authenticated by a query parameter) and the header lines
/// for a JSON and for a streamed answer, already in libcurl's list form. A call then builds no
/// strings and no header list.
///
/// Only what the provider needs: content type, its own credential and its configured headers.
/// Nothing from the client is copied, so the client's key can never leak upstream.
final class ProviderCalls: Sendable {
    struct Call: Sendable {
        let chatCompletionsURL: UpstreamURL
        let jsonHeaders: UpstreamHeaderLines
        let streamHeaders: UpstreamHeaderLines
    }

    private let calls: [Call]

    init(providers: [Provider], secrets: ProviderSecrets) {
        calls = providers.indices.map { index in
            let provider = providers[index]
            let credential = secrets.credentials[index]
            func headers(accept: String) -> UpstreamHeaderLines {
                var lines = ["Content-Type: application/json", "Accept: \(accept)"]
                if case .header(let line) = credential { lines.append(line) }
                for header in provider.headers { lines.append("\(header.name): \(header.value)") }
                return UpstreamHeaderLines(lines)
            }
            var url = provider.baseURL + "/chat/completions"
            if case .query(let parameter) = credential { url += "?" + parameter }
            return Call(chatCompletionsURL: UpstreamURL(url), jsonHeaders: headers(accept: "application/json"),
                        streamHeaders: headers(accept: "text/event-stream"))
        }
    }

    subscript(providerIndex: Int) -> Call { calls[providerIndex] }
}
