import RouteConfig
import SwitchyardJSON
import UpstreamClient

/// Stage 5: the client's request as the provider expects it. Chat Completions to a provider that
/// speaks it natively changes only `model`: the value is spliced, the rest of the body is
/// forwarded byte for byte (no parse-and-dump of a 100 KB agent turn).
struct TranslateRequest {
    let secrets: ProviderSecrets

    ///
    /// A streamed request always asks the provider for usage (`stream_options.include_usage`), so
    /// every token is accounted; the response side hides the extra chunk if the client did not
    /// ask for it.
    func chatToChat(body: UnsafeRawBufferPointer, fields: ChatRequestFields, resolved: ResolvedModel) -> UpstreamRequest {
        var edits: [(Range<Int>, [UInt8])] = []
        if resolved.model.upstreamID != fields.modelID {
            var quoted: [UInt8] = []
            JSONTopLevelScanner.appendQuoted(resolved.model.upstreamID, to: &quoted)
            edits.append((fields.modelSpan, quoted))
        }
        if fields.stream && !fields.clientAskedForUsage {
            if let options = fields.streamOptions {
                let merged = (options.kind == .object ? JSONDocument.parse(UnsafeRawBufferPointer(rebasing: body[options.value])) : nil)
                    ?? JSONDocument.object()
                merged.set("include_usage", true)
                edits.append((options.value, merged.serialized()))
            } else {
                // Right after the opening brace; the body has other members, so a comma follows.
                let brace = body.firstIndex(of: UInt8(ascii: "{"))!
                edits.append(((brace + 1)..<(brace + 1), Array(#""stream_options":{"include_usage":true},"#.utf8)))
            }
        }
        // One copy, straight into the memory libcurl sends from.
        let upstreamBody = UpstreamBody(count: JSONTopLevelScanner.splicedCount(body, edits: edits)) { out in
            JSONTopLevelScanner.splice(body, edits: edits, into: out)
        }
        return UpstreamRequest(method: "POST",
                               url: url(resolved, path: "/chat/completions"),
                               headers: headers(resolved, accept: fields.stream ? "text/event-stream" : "application/json"),
                               body: upstreamBody,
                               connectTimeoutMs: resolved.provider.connectTimeoutMs,
                               readTimeoutMs: resolved.provider.readTimeoutMs)
    }

    func url(_ resolved: ResolvedModel, path: String) -> String {
        var url = resolved.provider.baseURL + path
        if case .query(let parameter) = secrets.credentials[resolved.providerIndex] { url += "?" + parameter }
        return url
    }

    /// Only what the provider needs: content type, its own credential and configured headers.
    /// Nothing from the client is copied, so the client's key can never leak upstream.
    func headers(_ resolved: ResolvedModel, accept: String) -> [String] {
        var lines = ["Content-Type: application/json", "Accept: \(accept)"]
        if case .header(let line) = secrets.credentials[resolved.providerIndex] { lines.append(line) }
        for header in resolved.provider.headers { lines.append("\(header.name): \(header.value)") }
        return lines
    }
}
