import Foundation
import Testing
@testable import Accounting

@Suite struct DailyTokens {
    let limits = KeyLimits(requestsPerMinute: 1000, dailyTokens: 1000)

    @Test func reserveAndSettleArithmetic() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 10))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let a = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 300)
        let r = try #require(a.reservation)
        #expect(r.tokens == 300 && r.day == UTCDay(millis: clock.nowMillis()))
        #expect(a.tokens.remaining == 700 && a.tokens.reservedTokens == 300 && a.tokens.usedTokens == 0)
        #expect(a.tokens.limit == 1000)
        #expect(a.tokens.resetMillis == 14 * 3_600_000)
        let b = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 200).reservation)

        try acc.settle(r, actualTokens: 250)            // produced less than reserved
        var s = try acc.status(keyID: "k", limits: limits).tokens
        #expect(s.usedTokens == 250 && s.reservedTokens == 200 && s.remaining == 550)

        try acc.finish(b, record: record(b.admittedAtMillis, key: "k", prompt: 100, completion: 400))  // more
        s = try acc.status(keyID: "k", limits: limits).tokens
        #expect(s.usedTokens == 750 && s.reservedTokens == 0 && s.remaining == 250)

        // Settling twice adds usage but does not release twice.
        try acc.settle(r, actualTokens: 0)
        #expect(try acc.status(keyID: "k", limits: limits).tokens.reservedTokens == 0)
    }

    @Test func rejectedAtTheLimitUntilMidnight() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 23, 0, 0, ms: 500))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let r = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 10).reservation)
        // Reserved in flight counts: with 999 used + 10 reserved, the key is at its limit — but
        // the reservation may settle for less, so the wait is 1 s, not until midnight.
        try acc.append(record(clock.nowMillis(), key: "k", prompt: 999))
        let blocked = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1)
        #expect(blocked.rejection?.0 == .tokensReservedInFlight)
        #expect(blocked.rejection?.1 == 1)
        #expect(blocked.tokens.remaining == 0)
        try acc.settle(r, actualTokens: 0)
        // 999 used: one more request gets in (its own estimate is not tested under .belowLimit).
        let last = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 50).reservation)
        try acc.settle(last, actualTokens: 50)
        let usedUp = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0)
        #expect(usedUp.rejection?.0 == .dailyTokens && usedUp.rejection?.1 == 3600)  // 59 m 59.5 s, rounded up

        clock.set(millis: utc(2025, 6, 1, 23, 59, 59, ms: 999))
        #expect(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0).rejection?.1 == 1)
        clock.set(millis: utc(2025, 6, 2))  // 00:00 UTC: a new allowance
        let fresh = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0)
        #expect(fresh.isAdmitted && fresh.tokens.remaining == 1000 && fresh.tokens.resetMillis == 86_400_000)
    }

    @Test func tokenRejectionDoesNotUseRequestSlots() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 9))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let small = KeyLimits(requestsPerMinute: 3, dailyTokens: 100)
        let r = try #require(try acc.admit(keyID: "k", limits: small, estimatedTokens: 100).reservation)
        for _ in 0..<10 {
            // The reservation in flight holds the whole allowance (nothing used yet): wait 1 s.
            #expect(try acc.admit(keyID: "k", limits: small, estimatedTokens: 1).rejection?.0 == .tokensReservedInFlight)
        }
        #expect(try acc.status(keyID: "k", limits: small).requests.remaining == 2)
        try acc.settle(r, actualTokens: 10)
        #expect(try acc.admit(keyID: "k", limits: small, estimatedTokens: 1).isAdmitted)
        #expect(try acc.admit(keyID: "k", limits: small, estimatedTokens: 1).isAdmitted)
        // Tokens are fine now, so the rate limit speaks.
        #expect(try acc.admit(keyID: "k", limits: small, estimatedTokens: 1).rejection?.0 == .requestsPerMinute)
    }

    @Test func bothLimitsRefuseTakesTheLongerWait() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 22))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let small = KeyLimits(requestsPerMinute: 1, dailyTokens: 10)
        let r = try #require(try acc.admit(keyID: "k", limits: small, estimatedTokens: 10).reservation)
        // Tokens wait 1 s for the reservation in flight, the rate limiter 60 s: 60 s, token reason.
        let waiting = try acc.admit(keyID: "k", limits: small, estimatedTokens: 1)
        #expect(waiting.rejection?.0 == .tokensReservedInFlight && waiting.rejection?.1 == 60)
        try acc.settle(r, actualTokens: 10)
        // Now used up until midnight (2 h), longer than the rate limiter's wait.
        let refused = try acc.admit(keyID: "k", limits: small, estimatedTokens: 1)
        #expect(refused.rejection?.0 == .dailyTokens && refused.rejection?.1 == 7200)
    }

    @Test func streamCrossingMidnightCountsAgainstItsAdmissionDay() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 23, 59, 59))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let r = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 100).reservation)
        #expect(r.day.description == "2025-06-01")
        clock.set(millis: utc(2025, 6, 2, 0, 0, 30))
        // The new day starts clean: the in-flight stream's reservation belongs to June 1.
        #expect(try acc.status(keyID: "k", limits: limits).tokens.remaining == 1000)
        try acc.finish(r, record: record(r.admittedAtMillis, key: "k", prompt: 40, completion: 700))
        #expect(try acc.status(keyID: "k", limits: limits).tokens.usedTokens == 0)
        clock.set(millis: utc(2025, 6, 1, 23, 59, 59, ms: 500))
        let june1 = try acc.status(keyID: "k", limits: limits).tokens
        #expect(june1.usedTokens == 740 && june1.reservedTokens == 0)
        let byDay = try acc.totals(by: .day)
        #expect(byDay.map(\.group) == ["2025-06-01"])
        #expect(byDay.first?.totals.totalTokens == 740)
    }

    @Test func reservationMustFitRule() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions(rule: .reservationMustFit))
        let a = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 600).reservation)
        // 600 reserved + 500 > 1000, but 0 used + 500 fits: wait for the one in flight.
        let b = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 500)
        #expect(b.rejection?.0 == .tokensReservedInFlight && b.rejection?.1 == 1)
        #expect(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 400).isAdmitted)  // exactly fits
        try acc.settle(a, actualTokens: 700)
        // 700 used: 500 can never fit today.
        let c = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 500)
        #expect(c.rejection?.0 == .dailyTokens && c.rejection?.1 == 12 * 3600)
    }

    /// One request reserving the whole allowance, nothing used yet: the key's other requests
    /// wait for it (1 s), they are not told the day is used up.
    @Test func oneLargeReservationIsNotAUsedUpDay() throws {
        for rule in [TokenAdmissionRule.belowLimit, .reservationMustFit] {
            let folder = try TempFolder(); defer { folder.remove() }
            let clock = ManualClock(millis: utc(2025, 6, 1, 12))
            let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions(rule: rule))
            let big = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1000).reservation)
            let waiting = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 100)
            #expect(waiting.rejection?.0 == .tokensReservedInFlight && waiting.rejection?.1 == 1)
            try acc.settle(big, actualTokens: 200)
            #expect(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 100).isAdmitted)
        }
    }

    @Test func deadOwnersReservationsAreSwept() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let mine = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 100).reservation)
        // Plant a reservation owned by a process that has exited, and one by a reused pid
        // (our own pid with another start time).
        let dead = try exitedPID()
        let env = acc.environment
        let day = UTCDay(millis: clock.nowMillis())
        for (id, owner) in [(UInt64(1_000_001), ProcessIdentity(pid: dead, startTicks: 0)),
                            (UInt64(1_000_002), ProcessIdentity(pid: getpid(), startTicks: ProcessIdentity.current.startTicks + 1))] {
            let r = Reservation(id: id, keyID: "k", day: day, tokens: 200, admittedAtMillis: clock.nowMillis())
            try env.write("plant") { txn throws(AccountingError) in
                try env.put(txn, env.databases[Layout.reservations], Layout.reservationKey(id),
                            Layout.encodeReservation(r, owner: owner), "plant")
                var s = try Accountant.readState(env, txn, Layout.allowanceKey("k", day))
                s.reservedTokens += 200; s.requestsInFlight += 1
                try env.put(txn, env.databases[Layout.allowance], Layout.allowanceKey("k", day), Layout.encode(s), "plant")
                return (true, ())
            }
        }
        #expect(try acc.status(keyID: "k", limits: limits).tokens.reservedTokens == 500)
        #expect(try acc.sweepDeadReservations() == 2)
        #expect(try acc.status(keyID: "k", limits: limits).tokens.reservedTokens == 100)
        #expect(try acc.sweepDeadReservations() == 0)
        try acc.settle(mine, actualTokens: 1)
    }
}

/// The pid of a child process that has already exited and been reaped.
func exitedPID() throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    return p.processIdentifier
}
