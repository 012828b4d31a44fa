import NIOCore
import RouteConfig
import SwitchyardJSON
import UpstreamClient

/// A complete response ready to write.
struct PreparedResponse {
    var status: Int
    var headers: [(String, String)]
    var body: ByteBuffer
    /// The provider's `usage`, read in the same pass that found `model`.
    var usage: ObservedUsage?
}

/// Stage 7: the provider's answer as the client expects it — the public model id the client
/// asked for, and provider failures mapped onto statuses the client's SDK handles.
struct TranslateResponse {
    let publicModelID: String
    let upstreamModelID: String
    let providerID: String

    /// Shared, so a response does not allocate its header list.
    static let jsonHeaders = [("content-type", "application/json")]

    /// A whole (non-streamed) provider response. One scan of the top level finds `model` (to
    /// rewrite) and `usage` (to account); the small `usage` object is read by `ObservedUsage`.
    func complete(status: Int, headers: [UpstreamHeader], body: ByteBuffer, allocator: ByteBufferAllocator) -> Result<PreparedResponse, GatewayError> {
        guard (200..<300).contains(status) else { return .failure(providerFailure(status: status, headers: headers, body: body)) }
        return body.withUnsafeReadableBytes { bytes -> Result<PreparedResponse, GatewayError> in
            // One walk, no key set or result array; the last occurrence of a name wins.
            var modelSpan: JSONMemberSpan?, usageSpan: JSONMemberSpan?
            do {
                try JSONTopLevelScanner.forEachMember(bytes) { name, span in
                    if JSONTopLevelScanner.nameEquals(name, Self.modelKey) {
                        modelSpan = span
                    } else if JSONTopLevelScanner.nameEquals(name, Self.usageKey) {
                        usageSpan = span
                    }
                }
            } catch {
                return .failure(GatewayError(.providerMalformed, "The provider '\(providerID)' returned a malformed response (\(error)). Retry the request."))
            }
            var usage: ObservedUsage?
            if let span = usageSpan, span.kind == .object {
                usage = ObservedUsage(openAIUsage: UnsafeRawBufferPointer(rebasing: bytes[span.value]))
            }
            var out: ByteBuffer
            if let span = modelSpan, span.kind == .string, publicModelID != upstreamModelID {
                var quoted: [UInt8] = []
                JSONTopLevelScanner.appendQuoted(publicModelID, to: &quoted)
                out = allocator.buffer(capacity: bytes.count - span.value.count + quoted.count)
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[..<span.value.lowerBound]))
                out.writeBytes(quoted)
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[span.value.upperBound...]))
            } else {
                out = body  // passed on as it came: no copy
            }
            return .success(PreparedResponse(status: status, headers: Self.jsonHeaders, body: out, usage: usage))
        }
    }

    private static let modelKey = Array("model".utf8)
    private static let usageKey = Array("usage".utf8)

    /// A provider status outside 2xx. Its own 4xx (a bad parameter) passes through with its
    /// message; a 429 says the provider, not the plan, is limiting; 5xx becomes 502.
    func providerFailure(status: Int, headers: [UpstreamHeader], body: ByteBuffer) -> GatewayError {
        let providerMessage = Self.errorMessage(in: body)
        let detail = providerMessage.map { ": \($0)" } ?? "."
        if status == 429 {
            var extra: [(String, String)] = []
            // Passed on only when printable ASCII: response headers are not validated again.
            for h in headers where (h.name == "retry-after" || h.name == "retry-after-ms")
                && h.value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
                extra.append((h.name, h.value))
            }
            return GatewayError(.providerRateLimited,
                                "The provider '\(providerID)' is rate limiting requests for model '\(publicModelID)' (the provider's limit, not your plan's)\(detail)",
                                headers: extra)
        }
        return GatewayError(.providerError, "The provider '\(providerID)' returned HTTP \(status) for model '\(publicModelID)'\(detail)")
    }

    /// Whether a provider's 4xx body can be handed to the client as it is: an OpenAI error object.
    static func isPassThroughError(status: Int, body: ByteBuffer) -> Bool {
        guard (400..<500).contains(status), status != 429 else { return false }
        return errorMessage(in: body) != nil
    }

    static func errorMessage(in body: ByteBuffer) -> String? {
        body.withUnsafeReadableBytes { bytes in
            JSONDocument.parse(bytes)?.member("error")?.member("message")?.string
        }
    }

    func failure(_ failure: UpstreamFailure) -> GatewayError {
        switch failure {
        case .timedOut:
            return GatewayError(.providerTimeout, "The provider '\(providerID)' did not answer in time for model '\(publicModelID)'. Retry later.")
        case .unreachable(let why):
            return GatewayError(.providerUnreachable, "The provider '\(providerID)' could not be reached (\(why)). Retry later.")
        case .failed(let why):
            return GatewayError(.providerError, "The connection to provider '\(providerID)' failed (\(why)). Retry the request.")
        }
    }
}
