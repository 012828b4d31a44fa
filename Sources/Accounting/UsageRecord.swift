import LMDBSupport
/// One request as the ledger keeps it. Appended once per request, whatever its outcome.
public struct UsageRecord: Sendable, Hashable {
    /// How the request ended.
    public enum Outcome: Sendable, Hashable {
        case ok
        case upstreamError
        /// Refused by the gateway; `reason` is short and machine-readable (see `LimitReason`).
        case rejected(reason: String)
        case clientDisconnected
    }

    /// When the request was admitted (Unix ms). With a reservation, pass its `admittedAtMillis`
    /// so the record and the day totals fall on the same UTC day.
    public var timeMillis: Int64
    public var keyID: String
    public var model: String
    public var provider: String
    public var endpoint: String
    /// HTTP status sent to the client.
    public var status: Int
    /// Includes `cachedPromptTokens` (the providers' convention).
    public var promptTokens: Int64
    /// Includes `reasoningTokens`.
    public var completionTokens: Int64
    public var cachedPromptTokens: Int64
    public var reasoningTokens: Int64
    /// The provider reported no usage (or the stream was cut): the tokens are our estimate.
    public var estimated: Bool
    /// Millionths of a credit (`credits(price:usage:)`).
    public var creditsMicros: Int64
    public var latencyMillis: Int64
    /// nil when no byte was sent (rejections, errors before the first byte).
    public var timeToFirstByteMillis: Int64?
    public var outcome: Outcome

    public init(timeMillis: Int64, keyID: String, model: String, provider: String, endpoint: String,
                status: Int, promptTokens: Int64 = 0, completionTokens: Int64 = 0, cachedPromptTokens: Int64 = 0,
                reasoningTokens: Int64 = 0, estimated: Bool = false, creditsMicros: Int64 = 0,
                latencyMillis: Int64 = 0, timeToFirstByteMillis: Int64? = nil, outcome: Outcome) {
        self.timeMillis = timeMillis; self.keyID = keyID; self.model = model; self.provider = provider
        self.endpoint = endpoint; self.status = status; self.promptTokens = promptTokens
        self.completionTokens = completionTokens; self.cachedPromptTokens = cachedPromptTokens
        self.reasoningTokens = reasoningTokens; self.estimated = estimated; self.creditsMicros = creditsMicros
        self.latencyMillis = latencyMillis; self.timeToFirstByteMillis = timeToFirstByteMillis; self.outcome = outcome
    }

    /// What counts against the daily allowance: prompt + completion.
    public var allowanceTokens: Int64 { promptTokens + completionTokens }

    public var usage: TokenUsage {
        TokenUsage(promptTokens: promptTokens, completionTokens: completionTokens, cachedPromptTokens: cachedPromptTokens)
    }
}

/// Sums over records: what `switchyard usage` and `GET /v1/usage` report.
public struct UsageTotals: Sendable, Hashable {
    public var requests: Int64 = 0
    public var promptTokens: Int64 = 0
    public var completionTokens: Int64 = 0
    public var cachedPromptTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    public var creditsMicros: Int64 = 0
    /// Requests whose tokens are estimates.
    public var estimatedRequests: Int64 = 0
    public var rejectedRequests: Int64 = 0
    public var upstreamErrors: Int64 = 0
    public var clientDisconnects: Int64 = 0

    public init() {}

    public var totalTokens: Int64 { promptTokens + completionTokens }

    public mutating func add(_ r: UsageRecord) {
        requests += 1
        promptTokens += r.promptTokens; completionTokens += r.completionTokens
        cachedPromptTokens += r.cachedPromptTokens; reasoningTokens += r.reasoningTokens
        creditsMicros += r.creditsMicros
        if r.estimated { estimatedRequests += 1 }
        switch r.outcome {
        case .ok: break
        case .rejected: rejectedRequests += 1
        case .upstreamError: upstreamErrors += 1
        case .clientDisconnected: clientDisconnects += 1
        }
    }

    public mutating func add(_ o: UsageTotals) {
        requests += o.requests; promptTokens += o.promptTokens; completionTokens += o.completionTokens
        cachedPromptTokens += o.cachedPromptTokens; reasoningTokens += o.reasoningTokens
        creditsMicros += o.creditsMicros; estimatedRequests += o.estimatedRequests
        rejectedRequests += o.rejectedRequests; upstreamErrors += o.upstreamErrors
        clientDisconnects += o.clientDisconnects
    }
}

// MARK: On-disk forms

/// Binary layouts, little-endian, led by a version byte; a value must be consumed exactly.
///
/// Record v1: u8 version, u8 flags (bit0 estimated, bit1 has TTFB), i64 time, i64 status,
/// i64 prompt, completion, cached, reasoning, credits, latency, ttfb (0 if none), u8 outcome
/// (0 ok, 1 upstream_error, 2 rejected, 3 client_disconnected), then u16-length strings key id,
/// model, provider, endpoint, reject reason (empty unless rejected).
/// Totals v1: u8 version, then the ten counters of `UsageTotals` as i64.
enum RecordCoding {
    static let version: UInt8 = 1
    static let maxStringBytes = Int(UInt16.max)

    static func validate(_ r: UsageRecord) throws(AccountingError) {
        // Checked one by one: an array of (name, text) pairs cost an allocation per record.
        func check(_ text: String, _ name: StaticString) throws(AccountingError) {
            guard text.utf8.count <= maxStringBytes else { throw .invalidArgument("\(name) is longer than \(maxStringBytes) bytes") }
        }
        try check(r.keyID, "key id"); try check(r.model, "model"); try check(r.provider, "provider"); try check(r.endpoint, "endpoint")
        if case let .rejected(reason) = r.outcome, reason.utf8.count > maxStringBytes {
            throw .invalidArgument("reject reason is longer than \(maxStringBytes) bytes")
        }
        try validateKeyID(r.keyID)
    }

    /// Key ids are joined to other key parts with a 0 byte.
    static func validateKeyID(_ id: String) throws(AccountingError) {
        guard !id.utf8.contains(0), id.utf8.count <= 1024 else {
            throw .invalidArgument("key id must be at most 1024 bytes and contain no NUL")
        }
    }

    static func encode(_ r: UsageRecord) -> [UInt8] {
        var w = ByteWriter(capacity: 96 + r.keyID.utf8.count + r.model.utf8.count + r.provider.utf8.count + r.endpoint.utf8.count)
        w.u8(version)
        w.u8((r.estimated ? 1 : 0) | (r.timeToFirstByteMillis != nil ? 2 : 0))
        w.int64LE(r.timeMillis); w.int64LE(Int64(r.status)); w.int64LE(r.promptTokens); w.int64LE(r.completionTokens)
        w.int64LE(r.cachedPromptTokens); w.int64LE(r.reasoningTokens); w.int64LE(r.creditsMicros)
        w.int64LE(r.latencyMillis); w.int64LE(r.timeToFirstByteMillis ?? 0)
        var reason = ""
        switch r.outcome {
        case .ok: w.u8(0)
        case .upstreamError: w.u8(1)
        case let .rejected(why): w.u8(2); reason = why
        case .clientDisconnected: w.u8(3)
        }
        w.string16(r.keyID); w.string16(r.model); w.string16(r.provider); w.string16(r.endpoint); w.string16(reason)
        return w.bytes
    }

    static func decode(_ buffer: UnsafeRawBufferPointer) -> UsageRecord? {
        var r = ByteReader(buffer)
        guard r.u8() == version, let flags = r.u8() else { return nil }
        var ints: [Int64] = []
        for _ in 0..<9 {
            guard let v = r.int64LE() else { return nil }
            ints.append(v)
        }
        guard let tag = r.u8(), let key = r.string16(), let model = r.string16(), let provider = r.string16(),
              let endpoint = r.string16(), let reason = r.string16(), r.atEnd else { return nil }
        let outcome: UsageRecord.Outcome
        switch tag {
        case 0: outcome = .ok
        case 1: outcome = .upstreamError
        case 2: outcome = .rejected(reason: reason)
        case 3: outcome = .clientDisconnected
        default: return nil
        }
        return UsageRecord(timeMillis: ints[0], keyID: key, model: model, provider: provider, endpoint: endpoint,
                           status: Int(ints[1]), promptTokens: ints[2], completionTokens: ints[3],
                           cachedPromptTokens: ints[4], reasoningTokens: ints[5], estimated: flags & 1 != 0,
                           creditsMicros: ints[6], latencyMillis: ints[7],
                           timeToFirstByteMillis: flags & 2 != 0 ? ints[8] : nil, outcome: outcome)
    }

    static func encode(_ t: UsageTotals) -> [UInt8] {
        var w = ByteWriter(capacity: 81)
        w.u8(version)
        w.int64LE(t.requests); w.int64LE(t.promptTokens); w.int64LE(t.completionTokens); w.int64LE(t.cachedPromptTokens)
        w.int64LE(t.reasoningTokens); w.int64LE(t.creditsMicros); w.int64LE(t.estimatedRequests)
        w.int64LE(t.rejectedRequests); w.int64LE(t.upstreamErrors); w.int64LE(t.clientDisconnects)
        return w.bytes
    }

    static func decodeTotals(_ buffer: UnsafeRawBufferPointer) -> UsageTotals? {
        var r = ByteReader(buffer)
        guard r.u8() == version else { return nil }
        var t = UsageTotals()
        guard let requests = r.int64LE(), let prompt = r.int64LE(), let completion = r.int64LE(), let cached = r.int64LE(),
              let reasoning = r.int64LE(), let credits = r.int64LE(), let estimated = r.int64LE(),
              let rejected = r.int64LE(), let upstreamErrors = r.int64LE(), let disconnects = r.int64LE(),
              r.atEnd else { return nil }
        t.requests = requests; t.promptTokens = prompt; t.completionTokens = completion; t.cachedPromptTokens = cached
        t.reasoningTokens = reasoning; t.creditsMicros = credits; t.estimatedRequests = estimated
        t.rejectedRequests = rejected; t.upstreamErrors = upstreamErrors; t.clientDisconnects = disconnects
        return t
    }
}
