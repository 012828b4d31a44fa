import NIOHTTP1

/// Error responses in the OpenAI shape `{"error":{message,type,param,code}}` (wire-formats.md §1.4).
struct OpenAIError {
    let status: HTTPResponseStatus
    let message: String
    let type: String
    let param: String?
    let code: String?
    var extraHeaders: [(String, String)] = []

    var json: String {
        "{\"error\":{\"message\":" + JSONText.quoted(message) + ",\"type\":" + JSONText.quoted(type)
            + ",\"param\":" + JSONText.quotedOrNull(param) + ",\"code\":" + JSONText.quotedOrNull(code) + "}}"
    }

    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func notFound(method: HTTPMethod, uri: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "Invalid URL (\(method.rawValue) \(uri))",
                    type: "invalid_request_error", param: nil, code: nil)
    }

    // The three status faults, worded as the real API words them.
    static let serverError = OpenAIError(
        status: .internalServerError,
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error", param: nil, code: nil)

    static let rateLimited = OpenAIError(
        status: .tooManyRequests, message: "Rate limit reached for requests", type: "requests",
        param: nil, code: "rate_limit_exceeded",
        extraHeaders: [("retry-after", "7"), ("x-ratelimit-remaining-requests", "0")])

    static let badTemperature = OpenAIError(
        status: .badRequest, message: "Invalid value for 'temperature': must be between 0 and 2.",
        type: "invalid_request_error", param: "temperature", code: "invalid_value")

    static let bodyNotJSON = OpenAIError.invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")

    static let bodyTooLarge = OpenAIError(
        status: .payloadTooLarge, message: "Request body too large for the mock.",
        type: "invalid_request_error", param: nil, code: nil)
}
