// Decimal text → integer millionths, exactly.

import Testing
import RouteCompiler

@Suite struct PriceDecimalTests {
    @Test(arguments: [
        ("2.50", 2_500_000), ("2.5", 2_500_000), ("10", 10_000_000), ("10.00", 10_000_000),
        ("0.29", 290_000), ("0.075", 75_000), ("0.000001", 1), ("1.1000000", 1_100_000),
        (".5", 500_000), ("5.", 5_000_000), ("+3", 3_000_000), ("-0", 0), ("0", 0),
        ("1_000.5", 1_000_500_000), ("9223372036854.775807", Int64.max),
    ] as [(String, Int64)])
    func convertsExactly(_ text: String, _ micros: Int64) throws {
        #expect(try PriceDecimal.micros(from: text) == micros)
    }

    /// Why the text is parsed: through a Double, 8.20 would lose a micro.
    @Test func doubleWouldBeWrong() throws {
        #expect(Int64(8.2 * 1_000_000) == 8_199_999)
        #expect(try PriceDecimal.micros(from: "8.20") == 8_200_000)
    }

    @Test(arguments: [
        ("-1", PriceDecimal.Problem.negative), ("-0.5", .negative),
        ("0.0000001", .tooPrecise), ("1.2345678", .tooPrecise),
        ("1e3", .notADecimal), (".inf", .notADecimal), ("", .notADecimal), (".", .notADecimal), ("1.2.3", .notADecimal),
        ("12abc", .notADecimal), ("9223372036855", .tooLarge),
    ] as [(String, PriceDecimal.Problem)])
    func rejects(_ text: String, _ problem: PriceDecimal.Problem) {
        #expect(throws: problem) { try PriceDecimal.micros(from: text) }
    }

    @Test(arguments: [(2_500_000, "2.5"), (10_000_000, "10"), (1, "0.000001"), (0, "0"), (75_000, "0.075")] as [(Int64, String)])
    func canonicalText(_ micros: Int64, _ text: String) throws {
        #expect(PriceDecimal.text(micros: micros) == text)
        #expect(try PriceDecimal.micros(from: text) == micros)
    }

    @Test func missingCachedInputMeansInputAndMissingPriceMeansFree() throws {
        let config = try #require(RouteCompiler.compile(MinimalConfig.with(["models.yaml": """
            models:
              gpt-4o: { provider: openai, price: { input: 2.50, output: 10 } }
              gpt-4o-mini: { provider: openai }
            """])).config)
        let priced = try #require(config.models.first { $0.id == "gpt-4o" })
        #expect(priced.price.inputMicros == 2_500_000)
        #expect(priced.price.cachedInputMicros == 2_500_000)
        #expect(priced.price.outputMicros == 10_000_000)
        #expect(config.models.first { $0.id == "gpt-4o-mini" }?.price == .free)
    }
}
