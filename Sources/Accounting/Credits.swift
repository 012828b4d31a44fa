/// Prices in millionths of a credit per million tokens — the same fields as RouteConfig's `Price`
/// (this module depends on nothing but LMDB; the gateway converts with one initializer call).
public struct TokenPrices: Sendable, Hashable {
    public var inputMicros: Int64
    public var cachedInputMicros: Int64
    public var outputMicros: Int64

    public init(inputMicros: Int64, cachedInputMicros: Int64, outputMicros: Int64) {
        self.inputMicros = inputMicros; self.cachedInputMicros = cachedInputMicros; self.outputMicros = outputMicros
    }
}

/// The token counts credits are computed from.
public struct TokenUsage: Sendable, Hashable {
    /// All prompt tokens, cached ones included.
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// The part of `promptTokens` served from the provider's cache.
    public var cachedPromptTokens: Int64

    public init(promptTokens: Int64, completionTokens: Int64, cachedPromptTokens: Int64 = 0) {
        self.promptTokens = promptTokens; self.completionTokens = completionTokens
        self.cachedPromptTokens = cachedPromptTokens
    }
}

/// Credits for one request, in millionths of a credit, with exact integer arithmetic:
///
///     ( (prompt − cached) × input + cached × cachedInput + completion × output ) / 1 000 000
///
/// The numerator is computed in 128 bits (no overflow for any Int64 inputs) and the division
/// rounds half up (…0.5 micro-credits becomes 1). Rounding happens once per request: totals are
/// sums of rounded records, so they match what each request was billed. Negative counts or prices
/// are treated as 0, `cached` is clamped to `prompt`; a result beyond Int64 saturates.
public func credits(price: TokenPrices, usage: TokenUsage) -> Int64 {
    let prompt = UInt64(max(0, usage.promptTokens))
    let cached = min(UInt64(max(0, usage.cachedPromptTokens)), prompt)
    let terms: [(UInt64, Int64)] = [(prompt - cached, price.inputMicros), (cached, price.cachedInputMicros),
                                    (UInt64(max(0, usage.completionTokens)), price.outputMicros)]
    var high: UInt64 = 0
    var low: UInt64 = 0
    func add(_ h: UInt64, _ l: UInt64) -> Bool {
        let (sum, carry) = low.addingReportingOverflow(l)
        low = sum
        let (h1, o1) = high.addingReportingOverflow(h)
        let (h2, o2) = h1.addingReportingOverflow(carry ? 1 : 0)
        high = h2
        return o1 || o2
    }
    for (tokens, micros) in terms {
        let product = tokens.multipliedFullWidth(by: UInt64(max(0, micros)))
        if add(product.high, product.low) { return Int64.max }
    }
    if add(0, 500_000) { return Int64.max }
    let divisor: UInt64 = 1_000_000
    guard high < divisor else { return Int64.max }  // quotient would not fit in 64 bits
    let quotient = divisor.dividingFullWidth((high, low)).quotient
    return quotient > UInt64(Int64.max) ? Int64.max : Int64(quotient)
}

/// Millionths of a credit as exact decimal text, for reports: `1234567` → `"1.234567"`. Trailing
/// zeros of the fraction are dropped down to `minimumFractionDigits` (1...6): the default 6 keeps
/// them all (`"0.500000"`, the usage reports), 2 reads like a price (`"2.50"`, `"0.000125"`).
/// Negative amounts (none are produced: credits and prices are never negative) get a `-` sign.
public func creditsText(micros: Int64, minimumFractionDigits: Int = 6) -> String {
    let magnitude = micros.magnitude  // not abs(): Int64.min has no positive counterpart
    var fraction = String(magnitude % 1_000_000)
    fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
    while fraction.count > minimumFractionDigits, fraction.hasSuffix("0") { fraction.removeLast() }
    return (micros < 0 ? "-" : "") + String(magnitude / 1_000_000) + "." + fraction
}
