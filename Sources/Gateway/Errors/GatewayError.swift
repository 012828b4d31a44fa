import SwitchyardJSON

/// Every way a request can fail before or around the provider, with the status and the
/// message a caller can act on. Rendered in the wire format of the endpoint that was called.
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable {
        case missingKey, invalidKey, revokedKey, planNotConfigured
        case modelNotOnPlan, unknownModel, inactiveModel
        case malformedJSON, invalidField, bodyTooLarge, requestTimeout, malformedHTTP, headersTooLarge
        case unsupportedContentEncoding
        case routeNotFound, methodNotAllowed, unsupportedAPI
        case providerNotConfigured, providerError, providerUnreachable, providerTimeout, providerMalformed
        case providerRateLimited
        case planRateLimited, internalFailure
    }

    let code: Code
    public let message: String
    public let param: String?
    /// Extra response headers (e.g. `retry-after`).
    public let headers: [(String, String)]

    init(_ code: Code, _ message: String, param: String? = nil, headers: [(String, String)] = []) {
        self.code = code; self.message = message; self.param = param; self.headers = headers
    }

    public var description: String { "\(status) \(message)" }

    public var status: Int {
        switch code {
        case .missingKey, .invalidKey, .revokedKey: return 401
        case .planNotConfigured, .modelNotOnPlan: return 403
        case .unknownModel, .inactiveModel, .routeNotFound: return 404
        case .methodNotAllowed: return 405
        case .requestTimeout: return 408
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedContentEncoding: return 415
        case .malformedJSON, .invalidField, .unsupportedAPI, .malformedHTTP: return 400
        case .providerRateLimited, .planRateLimited: return 429
        case .internalFailure: return 500
        case .providerNotConfigured, .providerError, .providerUnreachable, .providerMalformed: return 502
        case .providerTimeout: return 504
        }
    }

    /// OpenAI's `error.type`.
    var openAIType: String {
        switch code {
        case .missingKey, .invalidKey, .revokedKey: return "authentication_error"
        case .planNotConfigured, .modelNotOnPlan: return "permission_error"
        case .providerRateLimited, .planRateLimited: return "rate_limit_error"
        case .internalFailure: return "server_error"
        case .providerNotConfigured, .providerError, .providerUnreachable, .providerTimeout, .providerMalformed: return "upstream_error"
        default: return "invalid_request_error"
        }
    }

    /// OpenAI's `error.code`.
    var openAICode: String {
        switch code {
        case .missingKey: return "missing_api_key"
        case .invalidKey: return "invalid_api_key"
        case .revokedKey: return "revoked_api_key"
        case .planNotConfigured: return "plan_not_configured"
        case .modelNotOnPlan: return "model_not_allowed"
        case .unknownModel: return "model_not_found"
        case .inactiveModel: return "model_inactive"
        case .malformedJSON: return "invalid_json"
        case .invalidField: return "invalid_request"
        case .bodyTooLarge: return "request_too_large"
        case .unsupportedContentEncoding: return "unsupported_content_encoding"
        case .requestTimeout: return "request_timeout"
        case .malformedHTTP: return "malformed_http_request"
        case .headersTooLarge: return "request_headers_too_large"
        case .routeNotFound: return "not_found"
        case .methodNotAllowed: return "method_not_allowed"
        case .unsupportedAPI: return "unsupported_api"
        case .providerNotConfigured: return "provider_not_configured"
        case .providerError: return "upstream_error"
        case .providerUnreachable: return "upstream_unreachable"
        case .providerTimeout: return "upstream_timeout"
        case .providerMalformed: return "upstream_malformed_response"
        case .providerRateLimited: return "upstream_rate_limited"
        case .planRateLimited: return "rate_limit_exceeded"
        case .internalFailure: return "internal_error"
        }
    }

    /// `{"error":{"message","type","param","code"}}`
    public func openAIBody() -> [UInt8] {
        let error = JSONDocument.object()
        error.set("message", message)
        error.set("type", openAIType)
        error.set("param", param)
        error.set("code", openAICode)
        let root = JSONDocument.object()
        root.set("error", error)
        return root.serialized()
    }
}

extension GatewayError {
    static func missingKey() -> GatewayError {
        GatewayError(.missingKey, "Missing API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.")
    }
    static func invalidKey() -> GatewayError {
        GatewayError(.invalidKey, "Invalid API key. Check the key you are sending, or ask your admin for a new one.")
    }
    static func revokedKey(_ id: String) -> GatewayError {
        GatewayError(.revokedKey, "API key \(id) has been revoked. Ask your admin for a new key.")
    }
    /// RFC 7694: a 415 for an encoding the server does not take says which it does.
    static func unsupportedContentEncoding(_ encoding: String) -> GatewayError {
        GatewayError(.unsupportedContentEncoding,
                     "The request body is sent with Content-Encoding '\(encoding)', which this gateway does not decode. Send it uncompressed.",
                     headers: [("accept-encoding", "identity")])
    }
    static func malformed(_ error: JSONSyntaxError) -> GatewayError {
        GatewayError(.malformedJSON, "The request body is not valid JSON (\(error)).")
    }
}
