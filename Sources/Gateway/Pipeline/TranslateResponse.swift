import NIOCore
import RouteConfig
import SwitchyardJSON
import UpstreamClient

/// A complete response ready to write.
struct PreparedResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Stage 7: the provider's answer as the client expects it — the public model id the client
/// asked for, and provider failures mapped onto statuses the client's SDK handles.
struct TranslateResponse {
    let publicModelID: String
    let upstreamModelID: String
    let providerID: String

    /// A whole (non-streamed) provider response.
    func complete(status: Int, headers: [UpstreamHeader], body: ByteBuffer) -> Result<PreparedResponse, GatewayError> {
        guard (200..<300).contains(status) else { return .failure(providerFailure(status: status, headers: headers, body: body)) }
        return body.withUnsafeReadableBytes { bytes -> Result<PreparedResponse, GatewayError> in
            let spans: [JSONMemberSpan?]
            do {
                spans = try JSONTopLevelScanner.scanObject(bytes, keys: ["model"])
            } catch {
                return .failure(GatewayError(.providerMalformed, "The provider '\(providerID)' returned a malformed response (\(error)). Retry the request."))
            }
            var out: [UInt8]
            if let span = spans[0], span.kind == .string, publicModelID != upstreamModelID {
                var quoted: [UInt8] = []
                JSONTopLevelScanner.appendQuoted(publicModelID, to: &quoted)
                out = JSONTopLevelScanner.splice(bytes, replacing: span.value, with: quoted)
            } else {
                out = Array(bytes)
            }
            return .success(PreparedResponse(status: status, headers: [("content-type", "application/json")], body: out))
        }
    }

    /// A provider status outside 2xx. Its own 4xx (a bad parameter) passes through with its
    /// message; a 429 says the provider, not the plan, is limiting; 5xx becomes 502.
    func providerFailure(status: Int, headers: [UpstreamHeader], body: ByteBuffer) -> GatewayError {
        let providerMessage = Self.errorMessage(in: body)
        let detail = providerMessage.map { ": \($0)" } ?? "."
        if status == 429 {
            var extra: [(String, String)] = []
            for h in headers where h.name == "retry-after" || h.name == "retry-after-ms" { extra.append((h.name, h.value)) }
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
