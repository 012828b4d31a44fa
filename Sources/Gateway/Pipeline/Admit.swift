import Accounting
import RouteConfig

/// A request let through the key's limits, with what its headers should say.
struct Admission {
    let reservation: Reservation
    let headers: [(String, String)]
}

/// Stage 4: the key's requests-per-minute and daily tokens (its plan's, or its own overrides),
/// checked and recorded atomically in LMDB — exact across threads and processes.
struct Admit {
    let accountant: Accountant

    static func limits(for caller: Caller) -> KeyLimits {
        KeyLimits(requestsPerMinute: max(1, caller.key.rpmOverride ?? caller.plan.plan.requestsPerMinute),
                  dailyTokens: Int64(max(1, caller.key.dailyTokensOverride ?? caller.plan.plan.dailyTokens)))
    }

    func callAsFunction(_ caller: Caller, estimatedTokens: Int64, model: String, provider: String,
                        endpoint: String, nowMillis: Int64) throws(GatewayError) -> Admission {
        let result: AdmissionResult
        do {
            result = try accountant.admit(keyID: caller.key.id, limits: Self.limits(for: caller), estimatedTokens: estimatedTokens)
        } catch {
            throw GatewayError(.internalFailure, "Usage accounting is unavailable (\(error)); the request was not sent. Retry shortly.")
        }
        let headers = OpenAIRateLimitHeaders.make(requests: result.requests, tokens: result.tokens)
        switch result.decision {
        case .admitted(let reservation):
            return Admission(reservation: reservation, headers: headers)
        case .rejected(let reason, let retryAfter):
            // Rejections are in the ledger too, so a user can see why they were refused.
            try? accountant.append(UsageRecord(timeMillis: nowMillis, keyID: caller.key.id, model: model, provider: provider,
                                               endpoint: endpoint, status: 429, outcome: .rejected(reason: reason.rawValue)))
            let message: String
            switch reason {
            case .requestsPerMinute:
                message = "Rate limit reached for your key: \(result.requests.limit) requests per minute on plan '\(caller.plan.plan.id)'. Retry after \(retryAfter) s."
            case .dailyTokens:
                message = "Daily token allowance used up for your key (\(result.tokens.limit) tokens per UTC day on plan '\(caller.plan.plan.id)'). It resets at 00:00 UTC, in \(retryAfter) s."
            case .tokensReservedInFlight:
                message = "Your key's requests in flight reserve the rest of today's token allowance. Retry after \(retryAfter) s."
            }
            throw GatewayError(.planRateLimited, message, headers: [("retry-after", String(retryAfter))] + headers)
        }
    }
}

/// `x-ratelimit-*` as OpenAI sends them; resets as durations (`12ms`, `6m0s`, `3h2m1s`).
/// Anthropic-format endpoints get their own writer (`anthropic-ratelimit-*`, RFC 3339 resets).
enum OpenAIRateLimitHeaders {
    static func make(requests: RequestRateStatus, tokens: TokenStatus) -> [(String, String)] {
        [("x-ratelimit-limit-requests", String(requests.limit)),
         ("x-ratelimit-remaining-requests", String(requests.remaining)),
         ("x-ratelimit-reset-requests", duration(millis: requests.resetMillis)),
         ("x-ratelimit-limit-tokens", String(tokens.limit)),
         ("x-ratelimit-remaining-tokens", String(tokens.remaining)),
         ("x-ratelimit-reset-tokens", duration(millis: tokens.resetMillis))]
    }

    static func duration(millis: Int64) -> String {
        // Written digit by digit into the string's own storage (small: no allocation); the
        // interpolated form cost ~1k instructions per header (`make bench-check`).
        String(unsafeUninitializedCapacity: 32) { out in
            var at = 0
            func number(_ value: Int64) {
                var digits = 1, rest = value / 10
                while rest > 0 { digits += 1; rest /= 10 }
                var v = value
                for i in stride(from: at + digits - 1, through: at, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                at += digits
            }
            func unit(_ letter: Unicode.Scalar) {
                out[at] = UInt8(ascii: letter)
                at += 1
            }
            if millis < 1000 {
                number(max(0, millis)); unit("m"); unit("s")
                return at
            }
            let seconds = millis / 1000 + (millis % 1000 == 0 ? 0 : 1)
            let h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60
            if h > 0 { number(h); unit("h") }
            if h > 0 || m > 0 { number(m); unit("m") }
            number(s); unit("s")
            return at
        }
    }
}
