/// The daily token allowance of a key: prompt + completion tokens per UTC day.
///
/// State per (key, day): tokens `used` (settled requests and ledger records of that day) and
/// tokens `reserved` by requests in flight. At admission a request reserves an estimate (prompt
/// estimate + its own output cap if it sets one, nothing for output otherwise); when it ends,
/// `settle` releases the reservation and adds the real usage. Everything is attributed to the UTC
/// day on which the request was *admitted*: a stream admitted at 23:59:59 and ending after
/// midnight counts against the day it started, and does not eat into the new day.
///
/// Admission rules (`TokenAdmissionRule`):
///
/// - `.belowLimit` (default): admitted iff `used + reserved < limit`; the request's own estimate
///   is not part of the test. Overshoot bound: at the end of the day,
///   `used ≤ limit − 1 + max reservation + Σ max(0, actual − reservation)` over the day's
///   requests — the last request admitted under the limit may carry a whole reservation past it,
///   and requests may produce more than they reserved (no output cap, or an underestimated prompt).
/// - `.reservationMustFit`: additionally `used + reserved + estimate ≤ limit`. Then reservations
///   alone never exceed the limit and the overshoot is at most `Σ max(0, actual − reservation)`:
///   exactly "what a burst produces beyond its reservations". The price: a request whose output
///   cap does not fit the remainder is refused even though the key is not yet at its limit.
///
/// Used up (`used ≥ limit`, or under `.reservationMustFit` `used + estimate > limit`): refused
/// until 00:00 UTC. Refused only because of reservations in flight (the key's own usage leaves
/// room): told to retry after 1 s, since those may settle for less — one large `max_tokens`
/// request in flight must not read as "used up until midnight" to the key's other requests.
public enum TokenAdmissionRule: Sendable, Hashable {
    case belowLimit
    case reservationMustFit
}

/// Per key and UTC day, as stored.
public struct DailyTokenState: Sendable, Hashable {
    public var usedTokens: Int64 = 0
    public var reservedTokens: Int64 = 0
    public var requestsInFlight: Int64 = 0

    public init(usedTokens: Int64 = 0, reservedTokens: Int64 = 0, requestsInFlight: Int64 = 0) {
        self.usedTokens = usedTokens; self.reservedTokens = reservedTokens; self.requestsInFlight = requestsInFlight
    }
}

/// Why a request was refused tokens.
public enum TokenRejection: Sendable, Hashable {
    /// `used ≥ limit`, or (under `.reservationMustFit`) `used + estimate > limit`: nothing frees
    /// before midnight UTC.
    case allowanceExhausted
    /// Reservations of requests in flight are in the way; it may fit once they settle.
    case reservedInFlight
}

/// The values of the `x-ratelimit-*-tokens` headers.
public struct TokenStatus: Sendable, Hashable {
    /// `x-ratelimit-limit-tokens`: the daily allowance.
    public var limit: Int64
    /// `x-ratelimit-remaining-tokens`: `limit − used − reserved`, at least 0.
    public var remaining: Int64
    /// `x-ratelimit-reset-tokens`: milliseconds until the next 00:00 UTC.
    public var resetMillis: Int64
    public var usedTokens: Int64
    public var reservedTokens: Int64

    public init(limit: Int64, state: DailyTokenState, nowMillis: Int64) {
        self.limit = limit
        remaining = max(0, limit - state.usedTokens - state.reservedTokens)
        resetMillis = UTCDay(millis: nowMillis).endMillis - nowMillis
        usedTokens = state.usedTokens
        reservedTokens = state.reservedTokens
    }
}

/// The decision logic, free of storage so it can be tested on its own.
public struct TokenAllowance: Sendable, Hashable {
    public let dailyTokens: Int64
    public let rule: TokenAdmissionRule

    public init(dailyTokens: Int64, rule: TokenAdmissionRule = .belowLimit) {
        precondition(dailyTokens >= 1, "the daily token allowance must be at least 1")
        self.dailyTokens = dailyTokens
        self.rule = rule
    }

    /// nil when admitted; otherwise the rejection and its `Retry-After` in whole seconds.
    public func check(_ state: DailyTokenState, estimate: Int64, nowMillis: Int64)
        -> (rejection: TokenRejection, retryAfterSeconds: Int)? {
        let untilMidnight = max(1, Int((UTCDay(millis: nowMillis).endMillis - nowMillis + 999) / 1000))
        let mustFit = rule == .reservationMustFit
        if state.usedTokens >= dailyTokens || (mustFit && state.usedTokens + estimate > dailyTokens) {
            return (.allowanceExhausted, untilMidnight)
        }
        let committed = state.usedTokens + state.reservedTokens
        if committed >= dailyTokens || (mustFit && committed + estimate > dailyTokens) {
            return (.reservedInFlight, 1)
        }
        return nil
    }
}

/// Tokens held for one admitted request until it is settled. Settle it exactly once (in a
/// `defer` on every path); a process that dies first has its reservations dropped by the next
/// sweep (see `Accountant`).
public struct Reservation: Sendable, Hashable {
    /// Unique across processes sharing the data folder.
    public let id: UInt64
    public let keyID: String
    /// The UTC day the request was admitted on: its usage counts against this day.
    public let day: UTCDay
    public let tokens: Int64
    public let admittedAtMillis: Int64
}
