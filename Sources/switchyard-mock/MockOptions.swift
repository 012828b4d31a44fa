import NIOHTTP1

/// A failure the mock can be asked to simulate on `POST /v1/chat/completions`.
enum Fault: String, CaseIterable, Sendable {
    case serverError = "500"
    case rateLimited = "429"
    case badRequest = "400"
    case malformed
    case disconnect
    case hang

    static let modelPrefix = "mock-fault-"

    /// `mock-fault-500` → `.serverError`. A provider prefix (`openai/mock-fault-500`) is ignored so
    /// route configs may spell the upstream model either way.
    init?(modelName: String) {
        let last = modelName.split(separator: "/").last.map(String.init) ?? modelName
        guard last.hasPrefix(Fault.modelPrefix) else { return nil }
        self.init(rawValue: String(last.dropFirst(Fault.modelPrefix.count)))
    }
}

/// Server-wide defaults, set on the command line.
struct MockDefaults: Sendable {
    var words = 20
    var chunkDelayMs = 0
    var firstByteDelayMs = 0
}

/// What one chat request asked of the mock. Three sources, later ones winning: the model name
/// (faults only), the body's `"mock"` object, then `x-mock-*` headers — headers win because they
/// survive a gateway that rewrites the model and drops unknown body fields.
struct MockOptions {
    var fault: Fault?
    var words: Int
    var chunkDelayMs: Int
    var firstByteDelayMs: Int
    var echoHeaders = false

    /// Caps that keep a typo from asking the mock for an hour-long or gigabyte-sized reply.
    static let maxWords = 1_000_000
    static let maxDelayMs = 600_000

    enum Problem: Error {
        case unknownFault(String)
        case badNumber(name: String, value: String)
    }

    init(defaults: MockDefaults) {
        words = defaults.words
        chunkDelayMs = defaults.chunkDelayMs
        firstByteDelayMs = defaults.firstByteDelayMs
    }

    mutating func apply(model: String?) {
        if let model, let fault = Fault(modelName: model) { self.fault = fault }
    }

    mutating func apply(body mock: [String: Any]) throws(Problem) {
        if let raw = mock["fault"] {
            let text = JSONValue.string(raw) ?? JSONValue.int(raw).map(String.init) ?? "\(raw)"
            fault = try Self.fault(named: text)
        }
        if let echo = mock["echo_headers"] {
            echoHeaders = JSONValue.bool(echo) ?? (JSONValue.string(echo) == "1" || JSONValue.string(echo) == "true")
        }
        try Self.number(mock["words"], name: "mock.words", max: Self.maxWords).map { words = $0 }
        try Self.number(mock["chunk_delay_ms"], name: "mock.chunk_delay_ms", max: Self.maxDelayMs)
            .map { chunkDelayMs = $0 }
        try Self.number(mock["first_byte_delay_ms"], name: "mock.first_byte_delay_ms", max: Self.maxDelayMs)
            .map { firstByteDelayMs = $0 }
    }

    mutating func apply(headers: HTTPHeaders) throws(Problem) {
        if let text = headers.first(name: "x-mock-fault") { fault = try Self.fault(named: text) }
        try Self.number(headers.first(name: "x-mock-words"), name: "x-mock-words", max: Self.maxWords)
            .map { words = $0 }
        try Self.number(headers.first(name: "x-mock-chunk-delay-ms"), name: "x-mock-chunk-delay-ms",
                        max: Self.maxDelayMs).map { chunkDelayMs = $0 }
        try Self.number(headers.first(name: "x-mock-first-byte-delay-ms"), name: "x-mock-first-byte-delay-ms",
                        max: Self.maxDelayMs).map { firstByteDelayMs = $0 }
        if let echo = headers.first(name: "x-mock-echo-headers") { echoHeaders = echo == "1" || echo == "true" }
    }

    /// Headers carry no body, so they are read even when the body is not JSON.
    static func headerFault(_ headers: HTTPHeaders) -> Fault? {
        headers.first(name: "x-mock-fault").flatMap { Fault(rawValue: $0.trimmingSpaces()) }
    }

    private static func fault(named text: String) throws(Problem) -> Fault? {
        let name = text.trimmingSpaces()
        if name.isEmpty || name == "none" { return nil }
        guard let fault = Fault(rawValue: name) else { throw .unknownFault(name) }
        return fault
    }

    private static func number(_ raw: Any?, name: String, max: Int) throws(Problem) -> Int? {
        guard let raw else { return nil }
        let value = JSONValue.int(raw) ?? JSONValue.string(raw).flatMap { Int($0.trimmingSpaces()) }
        guard let value, value >= 0, value <= max else { throw .badNumber(name: name, value: "\(raw)") }
        return value
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
