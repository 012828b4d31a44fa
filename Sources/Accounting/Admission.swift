/// A key's effective limits (its plan's, or the key's own overrides). Both at least 1.
public struct KeyLimits: Sendable, Hashable {
    public var requestsPerMinute: Int
    public var dailyTokens: Int64

    public init(requestsPerMinute: Int, dailyTokens: Int64) {
        self.requestsPerMinute = requestsPerMinute; self.dailyTokens = dailyTokens
    }
}

/// Which limit refused a request.
public enum LimitReason: String, Sendable, Hashable {
    case requestsPerMinute = "rate_limit_requests"
    case dailyTokens = "daily_tokens"
    /// The key's own usage leaves room, but its requests in flight reserve the rest: retry soon.
    case tokensReservedInFlight = "tokens_reserved_in_flight"
}

/// The answer to `admit`: the decision, and the header values either way.
public struct AdmissionResult: Sendable, Hashable {
    public enum Decision: Sendable, Hashable {
        /// Settle the reservation exactly once when the request ends (`finish` or `settle`).
        case admitted(Reservation)
        /// Send 429 with `Retry-After: retryAfterSeconds`.
        case rejected(LimitReason, retryAfterSeconds: Int)
    }

    public var decision: Decision
    /// `x-ratelimit-*-requests`.
    public var requests: RequestRateStatus
    /// `x-ratelimit-*-tokens`.
    public var tokens: TokenStatus

    public var reservation: Reservation? {
        if case let .admitted(r) = decision { return r }
        return nil
    }
}

extension Accountant {
    /// Admits one request against both limits in a single LMDB write transaction: reads the TAT
    /// and the day's token state, decides, and only if *both* limits admit, stores the new TAT
    /// and the reservation. So a request refused for tokens does not use up a requests-per-minute
    /// slot, and one refused by the rate limiter reserves nothing — a refused request changes
    /// nothing (a refused client retrying does not dig its hole deeper). When both refuse, the
    /// token reason is reported (its wait is usually the longer) and `Retry-After` is the larger
    /// of the two waits, since the request needs both.
    ///
    /// `estimatedTokens`: prompt estimate + the request's output cap if it sets one.
    public func admit(keyID: String, limits: KeyLimits, estimatedTokens: Int64) throws(AccountingError) -> AdmissionResult {
        try RecordCoding.validateKeyID(keyID)
        try Self.validate(limits)
        let nowMillis = clock.nowMillis()
        let day = UTCDay(millis: nowMillis)
        let gcra = GCRA(requestsPerMinute: limits.requestsPerMinute)
        let allowance = TokenAllowance(dailyTokens: limits.dailyTokens, rule: options.tokenRule)
        let estimate = max(0, estimatedTokens)
        let env = environment
        let dbi = db
        let rateKey = Layout.rateKey(keyID)
        let allowanceKey = Layout.allowanceKey(keyID, day)

        return try env.write("admit request") { txn throws(AccountingError) in
            let tat = try readTAT(txn, rateKey)
            var state = try Self.readState(env, txn, allowanceKey)
            let rate = gcra.decide(tat: tat, nowMicros: nowMillis * 1000)
            let tokenCheck = allowance.check(state, estimate: estimate, nowMillis: nowMillis)

            guard rate.admitted, tokenCheck == nil, let newTAT = rate.newTAT else {
                let tokens = TokenStatus(limit: limits.dailyTokens, state: state, nowMillis: nowMillis)
                let requests = gcra.status(tat: tat, nowMicros: nowMillis * 1000)
                let decision: AdmissionResult.Decision
                if let (why, wait) = tokenCheck {
                    let reason: LimitReason = why == .allowanceExhausted ? .dailyTokens : .tokensReservedInFlight
                    decision = .rejected(reason, retryAfterSeconds: max(wait, rate.retryAfterSeconds))
                } else {
                    decision = .rejected(.requestsPerMinute, retryAfterSeconds: rate.retryAfterSeconds)
                }
                return (false, AdmissionResult(decision: decision, requests: requests, tokens: tokens))
            }

            let reservation = Reservation(id: newID(txn), keyID: keyID, day: day, tokens: estimate,
                                          admittedAtMillis: nowMillis)
            state.reservedTokens += estimate
            state.requestsInFlight += 1
            try env.put(txn, dbi[Layout.rate], rateKey, Layout.encodeTAT(newTAT), "store rate state")
            try env.put(txn, dbi[Layout.allowance], allowanceKey, Layout.encode(state), "store allowance")
            try env.put(txn, dbi[Layout.reservations], Layout.reservationKey(reservation.id),
                        Layout.encodeReservation(reservation, owner: owner), "store reservation")
            return (true, AdmissionResult(decision: .admitted(reservation), requests: rate.status,
                                          tokens: TokenStatus(limit: limits.dailyTokens, state: state, nowMillis: nowMillis)))
        }
    }

    /// Requests-per-minute alone (no token reservation), for routes that have no token cost.
    /// Consumes a slot when admitted.
    public func admitRequest(keyID: String, requestsPerMinute: Int) throws(AccountingError) -> GCRADecision {
        try RecordCoding.validateKeyID(keyID)
        guard requestsPerMinute >= 1 else { throw .invalidArgument("requests per minute must be at least 1") }
        let gcra = GCRA(requestsPerMinute: requestsPerMinute)
        let nowMicros = clock.nowMillis() * 1000
        let key = Layout.rateKey(keyID)
        let env = environment
        let dbi = db[Layout.rate]
        return try env.write("admit request") { txn throws(AccountingError) in
            let decision = gcra.decide(tat: try readTAT(txn, key), nowMicros: nowMicros)
            guard let newTAT = decision.newTAT else { return (false, decision) }
            try env.put(txn, dbi, key, Layout.encodeTAT(newTAT), "store rate state")
            return (true, decision)
        }
    }

    /// Settles a reservation without a ledger record: releases it and adds `actualTokens`
    /// (prompt + completion) to the day it was admitted on. Settling twice, or after a sweep took
    /// the reservation, still adds the usage but releases nothing twice. (`finish` does this and
    /// appends the record in the same transaction.)
    public func settle(_ reservation: Reservation, actualTokens: Int64) throws(AccountingError) {
        let env = environment
        try env.write("settle reservation") { txn throws(AccountingError) in
            try settle(txn, reservation, actualTokens: actualTokens)
            return (true, ())
        }
    }

    /// Header values and window counts for a key right now, consuming nothing.
    public func status(keyID: String, limits: KeyLimits) throws(AccountingError) -> (requests: RequestRateStatus, tokens: TokenStatus) {
        try RecordCoding.validateKeyID(keyID)
        try Self.validate(limits)
        let nowMillis = clock.nowMillis()
        let env = environment
        return try env.read("read limits") { txn throws(AccountingError) in
            let tat = try readTAT(txn, Layout.rateKey(keyID))
            let state = try Self.readState(env, txn, Layout.allowanceKey(keyID, UTCDay(millis: nowMillis)))
            return (GCRA(requestsPerMinute: limits.requestsPerMinute).status(tat: tat, nowMicros: nowMillis * 1000),
                    TokenStatus(limit: limits.dailyTokens, state: state, nowMillis: nowMillis))
        }
    }

    // MARK: Inside transactions

    func settle(_ txn: OpaquePointer, _ reservation: Reservation, actualTokens: Int64) throws(AccountingError) {
        let env = environment
        let key = Layout.allowanceKey(reservation.keyID, reservation.day)
        var state = try Self.readState(env, txn, key)
        if try env.delete(txn, db[Layout.reservations], Layout.reservationKey(reservation.id), "delete reservation") {
            state.reservedTokens = max(0, state.reservedTokens - reservation.tokens)
            state.requestsInFlight = max(0, state.requestsInFlight - 1)
        }
        state.usedTokens += max(0, actualTokens)
        try env.put(txn, db[Layout.allowance], key, Layout.encode(state), "store allowance")
    }

    func readTAT(_ txn: OpaquePointer, _ key: [UInt8]) throws(AccountingError) -> Int64? {
        guard let raw = try environment.get(txn, db[Layout.rate], key, "read rate state") else { return nil }
        guard let tat = Layout.decodeTAT(raw) else { throw .corruptRecord(environment.path, "rate state") }
        return tat
    }

    static func validate(_ limits: KeyLimits) throws(AccountingError) {
        guard limits.requestsPerMinute >= 1, limits.dailyTokens >= 1 else {
            throw .invalidArgument("limits must be at least 1 request per minute and 1 token per day")
        }
    }
}
