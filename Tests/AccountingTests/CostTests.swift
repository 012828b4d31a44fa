import Testing
@testable import Accounting

/// Prints what accounting costs per request on this machine. No timing assertions: the numbers
/// are for the closing note (run in release for representative figures).
@Suite(.serialized) struct Costs {
    static func perCall(_ n: Int, _ body: (Int) throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<n { try body(i) }
        let elapsed = clock.now - start
        let (s, attos) = elapsed.components
        return (Double(s) * 1e6 + Double(attos) / 1e12) / Double(n)
    }

    @Test func measureGroupCommitPath() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 1, 12))
        var options = testOptions()
        options.mapSize = 1 << 30
        let acc = try Accountant(directory: folder.path, clock: clock, options: options)  // syncs every 100 ms
        let limits = KeyLimits(requestsPerMinute: 1_000_000, dailyTokens: 1_000_000_000_000)
        let n = 20_000
        var reservations: [Reservation] = []
        reservations.reserveCapacity(n)
        let admit = try Self.perCall(n) { i in
            reservations.append(try #require(try acc.admit(keyID: "key-\(i % 100)", limits: limits, estimatedTokens: 500).reservation))
        }
        let finish = try Self.perCall(n) { i in
            let r = reservations[i]
            try acc.finish(r, record: record(r.admittedAtMillis, key: r.keyID, prompt: 400, completion: 200, credits: 1234))
        }
        let append = try Self.perCall(n) { i in
            try acc.append(record(clock.nowMillis(), key: "key-\(i % 100)", status: 429))
        }
        let status = try Self.perCall(n) { i in
            _ = try acc.status(keyID: "key-\(i % 100)", limits: limits)
        }
        let sync = try Self.perCall(20) { _ in try acc.sync() }
        print("accounting cost (NOSYNC + group commit): admit \(fmt(admit)) µs, finish (settle + ledger append) \(fmt(finish)) µs, "
              + "append alone \(fmt(append)) µs, status read \(fmt(status)) µs, one mdb_env_sync \(fmt(sync)) µs")
        #expect(try acc.records().count == 2 * n)
    }

    @Test func measureSynchronousCommits() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        var options = testOptions()
        options.syncIntervalMillis = 0
        let acc = try Accountant(directory: folder.path, clock: ManualClock(millis: utc(2025, 6, 1, 12)), options: options)
        let limits = KeyLimits(requestsPerMinute: 1_000_000, dailyTokens: 1_000_000_000)
        let admit = try Self.perCall(200) { i in
            _ = try acc.admit(keyID: "key-\(i % 10)", limits: limits, estimatedTokens: 1)
        }
        print("accounting cost (fsync per commit, syncIntervalMillis = 0): admit \(fmt(admit)) µs")
    }
}

extension Accountant {}

private func fmt(_ micros: Double) -> String {
    let tenths = Int((micros * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

private func record(_ time: Int64, key: String, status: Int) -> UsageRecord {
    UsageRecord(timeMillis: time, keyID: key, model: "gpt-test", provider: "mock", endpoint: "/v1/chat/completions",
                status: status, outcome: .rejected(reason: LimitReason.requestsPerMinute.rawValue))
}
