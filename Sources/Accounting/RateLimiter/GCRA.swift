/// Requests-per-minute limiting by the Generic Cell Rate Algorithm (virtual scheduling form).
///
/// Per key the only state is the TAT, the "theoretical arrival time" (Unix microseconds). With
/// `rpm` requests per minute:
///
/// - emission interval `T = ⌈60 s / rpm⌉` (microseconds, rounded up so the sustained rate never
///   exceeds `rpm`; the error is under 1 µs per request);
/// - tolerance `τ = (rpm − 1) · T`, i.e. a burst of exactly `rpm` requests;
/// - a request at time `t` is admitted iff `max(TAT, t) − t ≤ τ`; then `TAT ← max(TAT, t) + T`.
///   A rejected request changes nothing.
///
/// What that guarantees, exactly: a key idle for a minute may send `rpm` requests at once; after
/// that one request frees every `T`. Over any interval of length `w`, at most `rpm + ⌊w / T⌋`
/// requests are admitted. So a burst straddling a calendar-minute boundary cannot double the rate
/// (a fixed window admits `2·rpm` within milliseconds; here `w` ≈ 0 gives `rpm`), and the long-run
/// rate is `rpm` per minute. It is *not* "at most `rpm` in every sliding 60 s window": a full burst
/// followed by the steady rate admits up to `2·rpm − 1` within one 60 s span (the burst, then one
/// per `T`). That exact sliding-window guarantee needs a log of `rpm` timestamps per key.
///
/// Time moving backwards (an NTP step) is treated as no time passing: `max(TAT, t)` never
/// shrinks, so it cannot mint extra requests.
public struct GCRA: Sendable, Hashable {
    public static let periodMicros: Int64 = 60_000_000

    public let requestsPerMinute: Int
    public let emissionIntervalMicros: Int64
    public let toleranceMicros: Int64

    /// `requestsPerMinute` must be at least 1 (plans and key overrides are validated to be).
    public init(requestsPerMinute: Int) {
        precondition(requestsPerMinute >= 1, "requests per minute must be at least 1")
        self.requestsPerMinute = requestsPerMinute
        let rpm = Int64(requestsPerMinute)
        // ⌈P / rpm⌉ without forming P + rpm, which overflows for an "unlimited" override
        // (`keys create --rpm 9223372036854775807`) and used to crash the process.
        emissionIntervalMicros = (Self.periodMicros - 1) / rpm + 1
        toleranceMicros = (rpm - 1) * emissionIntervalMicros
    }

    /// Decides one request at `nowMicros` given the stored TAT (nil: never seen, or forgotten).
    public func decide(tat: Int64?, nowMicros: Int64) -> GCRADecision {
        let base = max(tat ?? nowMicros, nowMicros)
        let backlog = base - nowMicros
        guard backlog <= toleranceMicros else {
            // Admissible again once the backlog has drained to τ.
            let wait = backlog - toleranceMicros
            return GCRADecision(admitted: false, newTAT: nil,
                                status: status(tat: tat, nowMicros: nowMicros),
                                retryAfterSeconds: max(1, Int((wait + 999_999) / 1_000_000)))
        }
        let newTAT = base + emissionIntervalMicros
        return GCRADecision(admitted: true, newTAT: newTAT,
                            status: status(tat: newTAT, nowMicros: nowMicros), retryAfterSeconds: 0)
    }

    /// Header values for a key whose TAT is `tat`, without consuming anything.
    public func status(tat: Int64?, nowMicros: Int64) -> RequestRateStatus {
        let backlog = max(0, (tat ?? nowMicros) - nowMicros)
        let remaining = backlog > toleranceMicros ? 0 : Int((toleranceMicros - backlog) / emissionIntervalMicros) + 1
        return RequestRateStatus(limit: requestsPerMinute, remaining: remaining,
                                 resetMillis: (backlog + 999) / 1000)
    }
}

/// The values of the `x-ratelimit-*-requests` headers.
public struct RequestRateStatus: Sendable, Hashable {
    /// `x-ratelimit-limit-requests`: the key's requests per minute.
    public var limit: Int
    /// `x-ratelimit-remaining-requests`: requests that would be admitted right now, back to back.
    public var remaining: Int
    /// `x-ratelimit-reset-requests`: milliseconds until the limiter is back to a full burst
    /// (remaining == limit) if no more requests arrive. Rounded up.
    public var resetMillis: Int64

    /// Requests the limiter currently counts against the key (`limit − remaining`), shown by
    /// `GET /v1/usage` as "requests in the current window".
    public var inWindow: Int { limit - remaining }

    public init(limit: Int, remaining: Int, resetMillis: Int64) {
        self.limit = limit; self.remaining = remaining; self.resetMillis = resetMillis
    }
}

/// The outcome of `GCRA.decide`.
public struct GCRADecision: Sendable, Hashable {
    public var admitted: Bool
    /// The TAT to store when admitted.
    public var newTAT: Int64?
    /// Header values after this decision.
    public var status: RequestRateStatus
    /// Whole seconds (rounded up, at least 1) until a retry would be admitted; 0 when admitted.
    public var retryAfterSeconds: Int
}
