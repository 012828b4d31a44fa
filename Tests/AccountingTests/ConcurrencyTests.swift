import Dispatch
import Synchronization
import Testing
@testable import Accounting

@Suite struct ConcurrentAdmission {
    @Test func twoHundredThreadsAgainstFifty() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let limits = KeyLimits(requestsPerMinute: 50, dailyTokens: 1_000_000)
        let admitted = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            do {
                let r = try acc.admit(keyID: "hot", limits: limits, estimatedTokens: 5)
                if r.isAdmitted { admitted.add(1, ordering: .relaxed) } else { rejected.add(1, ordering: .relaxed) }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 50)
        #expect(rejected.load(ordering: .relaxed) == 150)
        #expect(failures.load(ordering: .relaxed) == 0)
        let s = try acc.status(keyID: "hot", limits: limits)
        #expect(s.tokens.reservedTokens == 250 && s.requests.remaining == 0)
    }

    @Test func concurrentReservationsStopExactlyAtTheAllowance() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let limits = KeyLimits(requestsPerMinute: 100_000, dailyTokens: 500)
        let reservations = Mutex<[Reservation]>([])
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            if let r = try? acc.admit(keyID: "k", limits: limits, estimatedTokens: 10).reservation {
                reservations.withLock { $0.append(r) }
            }
        }
        let all = reservations.withLock { $0 }
        #expect(all.count == 50)
        #expect(Set(all.map(\.id)).count == 50)
        // Settle them all concurrently, each producing 3 more than it reserved.
        DispatchQueue.concurrentPerform(iterations: all.count) { i in
            try? acc.finish(all[i], record: record(all[i].admittedAtMillis, key: "k", prompt: 5, completion: 8))
        }
        let s = try acc.status(keyID: "k", limits: limits).tokens
        // Overshoot = exactly what they produced beyond their reservations: 50 × 3.
        #expect(s.usedTokens == 650 && s.reservedTokens == 0)
        #expect(try acc.records().count == 50)
        #expect(try acc.totals(by: .key).first?.totals.requests == 50)
    }
}
