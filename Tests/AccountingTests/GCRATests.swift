import Testing
@testable import Accounting

@Suite struct RequestsPerMinute {
    let limits = KeyLimits(requestsPerMinute: 10, dailyTokens: 1_000_000_000)

    @Test func burstThenRetryAfter() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12, 0, 30))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        var remaining: [Int] = []
        for _ in 0..<10 {
            let r = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1)
            #expect(r.isAdmitted)
            remaining.append(r.requests.remaining)
        }
        #expect(remaining == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
        let rejected = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1)
        // T = 6 s: the 11th is admissible 6 s after the burst.
        #expect(rejected.rejection?.0 == .requestsPerMinute)
        #expect(rejected.rejection?.1 == 6)
        #expect(rejected.requests.limit == 10 && rejected.requests.remaining == 0)
        #expect(rejected.requests.resetMillis == 60_000)
        clock.advance(millis: 5_999)
        #expect(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1).rejection?.1 == 1)
        clock.advance(millis: 1)
        #expect(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 1).isAdmitted)
        // Other keys are untouched.
        #expect(try acc.admit(keyID: "other", limits: limits, estimatedTokens: 1).requests.remaining == 9)
    }

    @Test func steadyRate() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        // One request every T = 6 s is always admitted, forever, with a full burst left unused…
        for _ in 0..<50 {
            let r = try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0)
            #expect(r.isAdmitted && r.requests.remaining == 9)
            clock.advance(seconds: 6)
        }
        // …while one every 5 s (faster than T) eats into the burst by 1 s per request, then is
        // held to one per T.
        var admitted = 0
        for _ in 0..<120 {
            if try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0).isAdmitted { admitted += 1 }
            clock.advance(seconds: 5)
        }
        // Arrivals span 595 s: at most rpm + ⌊595 / 6⌋ = 109 of the 120.
        #expect(admitted <= 10 + 595 / 6)
        #expect(admitted >= 595 / 6)
    }

    @Test func burstAcrossMinuteBoundaryIsNotDoubled() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12, 0, 59, ms: 900))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        var admitted = 0
        for _ in 0..<10 where try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0).isAdmitted { admitted += 1 }
        #expect(admitted == 10)
        clock.set(millis: utc(2025, 6, 1, 12, 1, 0, ms: 100))  // new calendar minute, 200 ms later
        for _ in 0..<10 where try acc.admit(keyID: "k", limits: limits, estimatedTokens: 0).isAdmitted { admitted += 1 }
        #expect(admitted == 10)  // a fixed window would have admitted 20
    }

    @Test func slidingBoundHoldsForRandomArrivals() {
        let gcra = GCRA(requestsPerMinute: 7)  // T does not divide 60 s
        #expect(gcra.emissionIntervalMicros == 8_571_429)
        var rng = SystemRandomNumberGenerator()
        var tat: Int64? = nil
        var now: Int64 = 1_000_000_000
        var times: [Int64] = []
        for _ in 0..<5_000 {
            now += Int64.random(in: 0...3_000_000, using: &rng)
            let d = gcra.decide(tat: tat, nowMicros: now)
            if let t = d.newTAT { tat = t; times.append(now) }
        }
        // Over every span [times[i], times[j]]: count ≤ rpm + ⌊span / T⌋.
        for i in times.indices {
            var j = i
            while j < times.count, times[j] - times[i] <= 120_000_000 {
                let span = times[j] - times[i]
                #expect(j - i + 1 <= 7 + Int(span / gcra.emissionIntervalMicros))
                j += 1
            }
        }
        // Long-run rate never exceeds rpm.
        let minutes = Double(times.last! - times.first!) / 60_000_000
        #expect(Double(times.count) <= 7 * minutes + 7)
    }

    @Test func exactBurstForAwkwardRates() {
        for rpm in [1, 3, 7, 59, 61, 1000, 7919] {
            let gcra = GCRA(requestsPerMinute: rpm)
            var tat: Int64? = nil
            var n = 0
            while let t = gcra.decide(tat: tat, nowMicros: 42).newTAT { tat = t; n += 1 }
            #expect(n == rpm)
        }
    }

    @Test func clockGoingBackwardsMintsNothing() {
        let gcra = GCRA(requestsPerMinute: 2)
        var tat = gcra.decide(tat: nil, nowMicros: 100_000_000).newTAT
        tat = gcra.decide(tat: tat, nowMicros: 100_000_000).newTAT
        #expect(tat != nil)
        #expect(gcra.decide(tat: tat, nowMicros: 40_000_000).admitted == false)
    }

    @Test func requestOnlyAdmission() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        #expect(try acc.admitRequest(keyID: "k", requestsPerMinute: 2).admitted)
        #expect(try acc.admitRequest(keyID: "k", requestsPerMinute: 2).admitted)
        let third = try acc.admitRequest(keyID: "k", requestsPerMinute: 2)
        #expect(!third.admitted && third.retryAfterSeconds == 30)
        #expect(try acc.status(keyID: "k", limits: KeyLimits(requestsPerMinute: 2, dailyTokens: 5)).requests.inWindow == 2)
    }

    /// An "unlimited" override must not overflow the interval arithmetic (it crashed the process).
    @Test func hugeRatesDoNotOverflow() {
        for rpm in [Int.max, Int.max - 1, Int.max / 2, 60_000_001, 60_000_000, 59_999_999] {
            let gcra = GCRA(requestsPerMinute: rpm)
            #expect(gcra.emissionIntervalMicros >= 1)
            #expect(gcra.emissionIntervalMicros == (rpm >= 60_000_000 ? 1 : 2))
            let first = gcra.decide(tat: nil, nowMicros: 1_000_000)
            #expect(first.admitted)
            #expect(gcra.decide(tat: first.newTAT, nowMicros: 1_000_000).admitted)
        }
        // Still the exact ceiling for ordinary rates.
        #expect(GCRA(requestsPerMinute: 7).emissionIntervalMicros == 8_571_429)
        #expect(GCRA(requestsPerMinute: 60).emissionIntervalMicros == 1_000_000)
    }
}
