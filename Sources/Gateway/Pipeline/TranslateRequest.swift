import RouteConfig
import SwitchyardJSON
import UpstreamClient

/// Stage 5: the client's request as the provider expects it. Chat Completions to a provider that
/// speaks it natively changes only `model`: the value is spliced, the rest of the body is
/// forwarded byte for byte (no parse-and-dump of a 100 KB agent turn).
struct TranslateRequest {
    let calls: ProviderCalls

    ///
    /// A streamed request always asks the provider for usage (`stream_options.include_usage`), so
    /// every token is accounted; the response side hides the extra chunk if the client did not
    /// ask for it.
    func chatToChat(body: UnsafeRawBufferPointer, fields: ChatRequestFields, resolved: ResolvedModel) -> UpstreamRequest {
        var edits: [(Range<Int>, [UInt8])] = []
        if resolved.model.upstreamID != fields.modelID {
            edits.append((fields.modelSpan, resolved.quotedUpstreamID))
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
        let call = calls[resolved.providerIndex]
        return UpstreamRequest(method: "POST",
                               url: call.chatCompletionsURL,
                               headers: fields.stream ? call.streamHeaders : call.jsonHeaders,
                               body: upstreamBody,
                               connectTimeoutMs: resolved.provider.connectTimeoutMs,
                               readTimeoutMs: resolved.provider.readTimeoutMs)
    }
}
