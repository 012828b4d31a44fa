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

    /// OpenAI's `usage` object: `prompt_tokens` includes cached, `completion_tokens` includes
    /// reasoning.
    init?(openAIUsage usage: JSONMember) {
        guard usage.isObject, let prompt = usage.member("prompt_tokens")?.int,
              let completion = usage.member("completion_tokens")?.int else { return nil }
        promptTokens = Int64(prompt)
        completionTokens = Int64(completion)
        cachedPromptTokens = Int64(usage.member("prompt_tokens_details")?.member("cached_tokens")?.int ?? 0)
        reasoningTokens = Int64(usage.member("completion_tokens_details")?.member("reasoning_tokens")?.int ?? 0)
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

    private static let usageObjectMarker = Array(#""usage":{"#.utf8)
    private static let spacedUsageMarker = Array(#""usage": {"#.utf8)
    private static let deltaMarker = Array(#""delta":"#.utf8)

    /// Returns false when the event must not reach the client.
    mutating func inspect(event: UnsafeRawBufferPointer) -> Bool {
        if Self.contains(event, Self.deltaMarker) { contentChunks += 1 }
        guard Self.contains(event, Self.usageObjectMarker) || Self.contains(event, Self.spacedUsageMarker),
              let payload = Self.dataPayload(event), let doc = JSONDocument.parse(payload) else { return true }
        if let usage = doc.member("usage"), let observed = ObservedUsage(openAIUsage: usage) { reported = observed }
        let choicesEmpty = doc.member("choices")?.arrayCount == 0
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

    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
