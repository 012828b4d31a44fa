import Testing
import SwitchyardJSON
@testable import Gateway

@Suite struct UsageTapTests {
    private func usage(_ json: String) -> ObservedUsage? {
        Array(json.utf8).withUnsafeBytes { ObservedUsage(openAIUsage: $0) }
    }

    @Test func readsEveryCounterOfAnOpenAIUsageObject() {
        let read = usage(#"{"prompt_tokens": 1200, "completion_tokens":340,"total_tokens":1540,"#
            + #""prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens": 128}}"#)
        #expect(read?.promptTokens == 1200)
        #expect(read?.completionTokens == 340)
        #expect(read?.cachedPromptTokens == 1024)
        #expect(read?.reasoningTokens == 128)
        #expect(read?.estimated == false)
    }

    @Test func detailsAreOptionalButTheMainCountsAreNot() {
        #expect(usage(#"{"prompt_tokens":5,"completion_tokens":7}"#)?.cachedPromptTokens == 0)
        #expect(usage(#"{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":null}"#)?.totalTokens == 12)
        #expect(usage(#"{"prompt_tokens":5}"#) == nil)
        #expect(usage(#"{"prompt_tokens":"5","completion_tokens":7}"#) == nil)
        #expect(usage(#"{"prompt_tokens":5.5,"completion_tokens":7}"#) == nil)
        #expect(usage(#"{"prompt_tokens":99999999999999999999,"completion_tokens":7}"#) == nil)
        #expect(usage(#"{"prompt_tokens":5,"completion_tokens":7"#) == nil)
    }

    private func inspect(_ tap: inout UsageTap, _ event: String) -> Bool {
        inspectEvent(&tap, Array(event.utf8))
    }

    @Test func theUsageChunkIsReadAndHiddenOnlyWhenTheGatewayAskedForIt() {
        let content = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
        let usageChunk = "data: {\"id\":\"c\",\"choices\":[ ],\"usage\": {\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
        var hiding = UsageTap(hideUsageChunk: true)
        #expect(inspect(&hiding, content))
        #expect(!inspect(&hiding, usageChunk))
        #expect(hiding.usage(promptEstimate: 100) == ObservedUsage(estimatedPrompt: 3, estimatedCompletion: 2, estimated: false))

        var showing = UsageTap(hideUsageChunk: false)
        #expect(inspect(&showing, usageChunk))
        #expect(showing.usage(promptEstimate: 100).promptTokens == 3)
    }

    @Test func withoutUsageTheStreamIsEstimatedFromItsChunks() {
        var tap = UsageTap(hideUsageChunk: true)
        for _ in 0..<4 { _ = inspect(&tap, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n") }
        // A chunk that mentions usage but is not JSON passes through and changes nothing.
        #expect(inspect(&tap, "data: {\"usage\":{oops\n\n"))
        let estimate = tap.usage(promptEstimate: 50)
        #expect(estimate == ObservedUsage(estimatedPrompt: 50, estimatedCompletion: 4))
        #expect(estimate.estimated)
    }

    @Test func onlyKeysCountNotTheSameWordsInsideStrings() {
        var tap = UsageTap(hideUsageChunk: true)
        // Mentions inside a string value, escaped quotes and all: not a delta, not a usage object.
        let quoted = #"data: {"choices":[{"index":0,"text":"say \"delta\": and \"usage\":{\"prompt_tokens\":1}"}]}"# + "\n\n"
        #expect(inspect(&tap, quoted))
        #expect(tap.contentChunks == 0 && tap.reported == nil)
        // A stray quote on a comment line does not shift how the data line is read.
        let afterComment = ": a \"stray quote\n" + "data: {\"choices\":[],\"usage\":\t{\"prompt_tokens\":2,\"completion_tokens\":1}}" + "\n\n"
        #expect(!inspect(&tap, afterComment))
        #expect(tap.reported?.promptTokens == 2)
    }
}

@Suite struct ReportedCountLimitTests {
    @Test func providerCountsAreKeptInARangeThatCannotOverflow() {
        let read = Array(#"{"prompt_tokens":9223372036854775807,"completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":-5}}"#.utf8)
            .withUnsafeBytes { ObservedUsage(openAIUsage: $0) }
        #expect(read?.promptTokens == ObservedUsage.maxReportedTokens)
        #expect(read?.totalTokens == ObservedUsage.maxReportedTokens + 1)  // once trapped on overflow
        #expect(read?.reasoningTokens == 0)
    }
}
