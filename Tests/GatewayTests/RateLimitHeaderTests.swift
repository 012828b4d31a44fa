import Testing
@testable import Gateway

@Suite struct RateLimitHeaderTests {
    /// OpenAI's reset format: milliseconds under a second, else whole seconds rounded up, with
    /// minutes and hours once they are non-zero.
    @Test func resetDurationsInOpenAIsFormat() {
        let cases: [(Int64, String)] = [
            (-5, "0ms"), (0, "0ms"), (12, "12ms"), (999, "999ms"), (1000, "1s"), (1001, "2s"), (59_000, "59s"),
            (59_001, "1m0s"), (60_000, "1m0s"), (359_999, "6m0s"), (3_599_000, "59m59s"), (3_600_000, "1h0m0s"),
            (3_723_000, "1h2m3s"), (86_400_000, "24h0m0s"),
            (Int64.max, "2562047788015h12m56s"),
        ]
        for (millis, text) in cases {
            #expect(OpenAIRateLimitHeaders.duration(millis: millis) == text, "\(millis) ms")
        }
    }
}
