import NIOCore
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
    func chatToChat(body: consuming ByteBuffer, fields: ChatRequestFields, resolved: ResolvedModel) -> UpstreamRequest {
        let edits = body.withUnsafeReadableBytes { Self.edits(body: $0, fields: fields, resolved: resolved) }
        let call = calls[resolved.providerIndex]
        return UpstreamRequest(method: "POST",
                               url: call.chatCompletionsURL,
                               headers: fields.stream ? call.streamHeaders : call.jsonHeaders,
                               body: Self.upstreamBody(consume body, edits: edits),
                               connectTimeoutMs: resolved.provider.connectTimeoutMs,
                               readTimeoutMs: resolved.provider.readTimeoutMs)
    }

    /// The spans of the client's body to replace: `model` when the provider's id differs, and
    /// `stream_options` when the gateway must ask for usage.
    static func edits(body: UnsafeRawBufferPointer, fields: ChatRequestFields, resolved: ResolvedModel) -> [(Range<Int>, [UInt8])] {
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
        return edits
    }

    /// Bodies at least this long are edited in place.
    static let inPlaceThreshold = 16 * 1024

    /// The body libcurl sends: the received buffer itself, edited in place when the room left
    /// around it allows (`GatewayHandler` leaves some), else one copy into memory of its own.
    static func upstreamBody(_ body: consuming ByteBuffer, edits: [(Range<Int>, [UInt8])]) -> UpstreamBody {
        let start = body.readerIndex, end = body.writerIndex
        // A small body is cheaper to copy than to edit in place (the in-place edit allocates its
        // pieces; a 1 KB copy is a few hundred instructions).
        let edited = end - start < inPlaceThreshold ? nil : body.withVeryUnsafeMutableBytes { storage in
            JSONTopLevelScanner.spliceInPlace(storage, start: start, end: end, edits: edits)
        }
        if let edited {
            body.moveReaderIndex(to: edited.lowerBound)
            body.moveWriterIndex(to: edited.upperBound)
            return UpstreamBody(readableBytesOf: body)
        }
        return body.withUnsafeReadableBytes { bytes in
            UpstreamBody(count: JSONTopLevelScanner.splicedCount(bytes, edits: edits)) { out in
                JSONTopLevelScanner.splice(bytes, edits: edits, into: out)
            }
        }
    }
}
