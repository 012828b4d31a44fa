import SwitchyardJSON

/// Tokens one request used, as the provider reported them or, when it did not, as estimated.
public struct ObservedUsage: Sendable, Equatable {
    public var promptTokens: Int64 = 0
    public var completionTokens: Int64 = 0
    public var cachedPromptTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    public var estimated = false

    public var totalTokens: Int64 { promptTokens + completionTokens }

    /// No tokens: the provider did no billable work (an error status, no answer).
    public static let none = ObservedUsage(estimatedPrompt: 0, estimatedCompletion: 0, estimated: false)

    init(estimatedPrompt: Int64, estimatedCompletion: Int64, estimated: Bool = true) {
        promptTokens = estimatedPrompt
        completionTokens = estimatedCompletion
        self.estimated = estimated
    }

    /// OpenAI's `usage` object (its JSON text): `prompt_tokens` includes cached,
    /// `completion_tokens` includes reasoning. One walk over the members, no key sets or result
    /// arrays: a tree, or a key lookup per field, costs more than the scan of the whole response.
    init?(openAIUsage usage: UnsafeRawBufferPointer) {
        var prompt: Int64?, completion: Int64?
        var cached: Int64 = 0, reasoning: Int64 = 0
        do {
            try JSONTopLevelScanner.forEachMember(usage) { name, span in
                if JSONTopLevelScanner.nameEquals(name, Self.promptKey) {
                    prompt = JSONTopLevelScanner.integer(usage, span: span)
                } else if JSONTopLevelScanner.nameEquals(name, Self.completionKey) {
                    completion = JSONTopLevelScanner.integer(usage, span: span)
                } else if JSONTopLevelScanner.nameEquals(name, Self.promptDetailsKey) {
                    cached = Self.nestedInteger(usage, span, Self.cachedKey) ?? 0
                } else if JSONTopLevelScanner.nameEquals(name, Self.completionDetailsKey) {
                    reasoning = Self.nestedInteger(usage, span, Self.reasoningKey) ?? 0
                }
            }
        } catch {
            return nil
        }
        guard let prompt, let completion else { return nil }
        promptTokens = Self.clamped(prompt)
        completionTokens = Self.clamped(completion)
        cachedPromptTokens = Self.clamped(cached)
        reasoningTokens = Self.clamped(reasoning)
    }

    /// A provider's count, kept within 0...2⁴⁰: a negative count bills nothing, and a huge one
    /// (a broken or hostile provider) cannot overflow the sums made from it (`totalTokens`, the
    /// day's totals, credits) and crash the gateway.
    static let maxReportedTokens: Int64 = 1 << 40
    private static func clamped(_ count: Int64) -> Int64 { min(max(count, 0), maxReportedTokens) }

    private static let promptKey = Array("prompt_tokens".utf8)
    private static let completionKey = Array("completion_tokens".utf8)
    private static let promptDetailsKey = Array("prompt_tokens_details".utf8)
    private static let completionDetailsKey = Array("completion_tokens_details".utf8)
    private static let cachedKey = Array("cached_tokens".utf8)
    private static let reasoningKey = Array("reasoning_tokens".utf8)

    /// The integer member `key` of the object at `span`, if it is one.
    private static func nestedInteger(_ bytes: UnsafeRawBufferPointer, _ span: JSONMemberSpan, _ key: [UInt8]) -> Int64? {
        guard span.kind == .object else { return nil }
        let inner = UnsafeRawBufferPointer(rebasing: bytes[span.value])
        var found: Int64?
        do {
            try JSONTopLevelScanner.forEachMember(inner) { name, member in
                if JSONTopLevelScanner.nameEquals(name, key) { found = JSONTopLevelScanner.integer(inner, span: member) }
            }
        } catch {
            return nil
        }
        return found
    }
}

/// Watches a response for usage: the `usage` object of a whole body, or of the usage chunk at
/// the end of a stream — which is dropped from the client's stream when the gateway asked for
/// it and the client did not. Counts streamed chunks so a cut stream can be estimated.
struct UsageTap {
    private(set) var reported: ObservedUsage?
    private(set) var contentChunks: Int64 = 0
    /// The gateway added `stream_options.include_usage`; the client should not see the result.
    let hideUsageChunk: Bool

    init(hideUsageChunk: Bool) { self.hideUsageChunk = hideUsageChunk }

    private static let chunkKeys: JSONKeySet = ["usage", "choices"]

    /// Returns false when the event must not reach the client. `keys`: what `SSEEventKeys.scan`
    /// found in it.
    mutating func inspect(event: UnsafeRawBufferPointer, keys: SSEEventKeys) -> Bool {
        if keys.sawDelta { contentChunks += 1 }
        guard keys.sawUsageObject,
              let payload = Self.dataPayload(event),
              let spans = try? JSONTopLevelScanner.scanObject(payload, keys: Self.chunkKeys) else { return true }
        if let usage = spans[0], usage.kind == .object,
           let observed = ObservedUsage(openAIUsage: UnsafeRawBufferPointer(rebasing: payload[usage.value])) {
            reported = observed
        }
        let choicesEmpty = spans[1].map { JSONTopLevelScanner.isEmptyArray(payload, span: $0) } ?? false
        return !(hideUsageChunk && choicesEmpty)
    }

    /// The usage of a whole (non-streamed) response, read by `TranslateResponse.complete`.
    mutating func record(_ usage: ObservedUsage?) {
        if let usage { reported = usage }
    }

    /// What to record: the provider's numbers, else an estimate (prompt from the request size,
    /// completion from the chunks streamed, about one token each).
    func usage(promptEstimate: Int64) -> ObservedUsage {
        reported ?? ObservedUsage(estimatedPrompt: promptEstimate, estimatedCompletion: contentChunks)
    }

    /// The JSON after `data: ` in one SSE event.
    static func dataPayload(_ event: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let prefix = Array("data:".utf8)
        var i = 0
        while i + prefix.count <= event.count {
            if (i == 0 || event[i - 1] == 0x0A) && zip(prefix.indices, prefix).allSatisfy({ event[i + $0] == $1 }) {
                var start = i + prefix.count
                if start < event.count && event[start] == 0x20 { start += 1 }
                var end = start
                while end < event.count && event[end] != 0x0A && event[end] != 0x0D { end += 1 }
                return UnsafeRawBufferPointer(rebasing: event[start..<end])
            }
            i += 1
        }
        return nil
    }
}
