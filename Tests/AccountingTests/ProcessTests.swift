import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Accounting

/// Tests with a real second process: the test binary re-runs itself with `--filter` selecting
/// `childRole`, and an environment variable telling that test what to do. The child is spawned
/// (posix_spawn, no fork of this process's LMDB state) before the parent opens the folder.
@Suite struct Processes {
    static let roleVariable = "ACCOUNTING_CHILD_ROLE"

    /// A no-op in a normal run; the body of the child processes otherwise.
    @Test func childRole() throws {
        let env = ProcessInfo.processInfo.environment
        guard let role = env[Self.roleVariable], let folder = env["ACCOUNTING_CHILD_FOLDER"] else { return }
        switch role {
        case "share":
            let admitted = try Self.hammer(folder: folder, clockMillis: Int64(env["ACCOUNTING_CHILD_CLOCK"]!)!,
                                           startAt: Int64(env["ACCOUNTING_CHILD_START"]!)!)
            say("admitted=\(admitted)")
        case "crash":
            let acc = try Accountant(directory: folder)
            let limits = KeyLimits(requestsPerMinute: 1_000_000, dailyTokens: 1_000_000_000)
            _ = try #require(try acc.admit(keyID: "crash", limits: limits, estimatedTokens: 1000).reservation)
            say("reserved")
            for i in 0..<200_000 {
                try acc.append(record(SystemClock().nowMillis(), key: "crash", prompt: 1, completion: 1).with(latency: Int64(i)))
                say("committed \(i)")  // only after the commit returned
            }
        default:
            Issue.record("unknown child role \(role)")
        }
    }

    static let rpm = 300
    static let attempts = 600
    static let sums = 500

    /// Both processes run this at once: `attempts` admissions against one rpm budget (clock
    /// frozen, so exactly `rpm` can pass in total), then `sums` admit + finish on another key.
    static func hammer(folder: String, clockMillis: Int64, startAt: Int64) throws -> Int {
        let acc = try Accountant(directory: folder, clock: ManualClock(millis: clockMillis), options: testOptions())
        while SystemClock().nowMillis() < startAt { usleep(1000) }
        let limits = KeyLimits(requestsPerMinute: rpm, dailyTokens: 1_000_000_000)
        let admitted = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: attempts) { _ in
            do {
                guard let r = try acc.admit(keyID: "shared-rpm", limits: limits, estimatedTokens: 1).reservation else { return }
                admitted.add(1, ordering: .relaxed)
                try acc.finish(r, record: record(r.admittedAtMillis, key: "shared-rpm", prompt: 1))
            } catch { failures.add(1, ordering: .relaxed) }
        }
        let big = KeyLimits(requestsPerMinute: 1_000_000, dailyTokens: 1_000_000_000)
        DispatchQueue.concurrentPerform(iterations: sums) { _ in
            do {
                let r = try #require(try acc.admit(keyID: "shared-sum", limits: big, estimatedTokens: 10).reservation)
                try acc.finish(r, record: record(r.admittedAtMillis, key: "shared-sum", prompt: 3, completion: 4))
            } catch { failures.add(1, ordering: .relaxed) }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        acc.close()
        return admitted.load(ordering: .relaxed)
    }

    @Test func twoProcessesShareCountersExactly() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clockMillis = utc(2025, 6, 1, 12)
        let startAt = SystemClock().nowMillis() + 700
        let child = try Child(role: "share", folder: folder.path,
                              extra: ["ACCOUNTING_CHILD_CLOCK": String(clockMillis), "ACCOUNTING_CHILD_START": String(startAt)])
        let mine = try Self.hammer(folder: folder.path, clockMillis: clockMillis, startAt: startAt)
        let lines = child.waitForExit()
        let theirs = try #require(lines.compactMap { $0.hasPrefix("admitted=") ? Int($0.dropFirst(9)) : nil }.first)
        print("two processes: parent admitted \(mine), child \(theirs) of rpm \(Self.rpm)")
        #expect(mine + theirs == Self.rpm)
        #expect(child.status == 0)

        let acc = try Accountant(directory: folder.path, clock: ManualClock(millis: clockMillis), options: testOptions())
        let big = KeyLimits(requestsPerMinute: 1_000_000, dailyTokens: 1_000_000_000)
        let sum = try acc.status(keyID: "shared-sum", limits: big).tokens
        #expect(sum.usedTokens == Int64(2 * Self.sums * 7) && sum.reservedTokens == 0)
        #expect(try acc.records(keyID: "shared-sum").count == 2 * Self.sums)
        #expect(try acc.records(keyID: "shared-rpm").count == Self.rpm)
        #expect(try acc.today(keyID: "shared-rpm", limits: KeyLimits(requestsPerMinute: Self.rpm, dailyTokens: 10)).requests.remaining == 0)
    }

    @Test func killNineLosesNothingCommittedAndFreesReservations() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let child = try Child(role: "crash", folder: folder.path, extra: [:])
        var last = -1
        var reserved = false
        while last < 300, let line = child.nextLine() {
            if line == "reserved" { reserved = true }
            if line.hasPrefix("committed "), let i = Int(line.dropFirst(10)) { last = i }
        }
        #expect(reserved && last >= 300)
        kill(child.process.processIdentifier, SIGKILL)
        _ = child.waitForExit()
        #expect(child.process.terminationReason == .uncaughtSignal)

        // Opening sweeps the dead child's reservation; every acknowledged commit is there.
        let acc = try Accountant(directory: folder.path, options: testOptions())
        let records = try acc.records(keyID: "crash")
        #expect(records.count >= last + 1)
        let seen = Set(records.map(\.latencyMillis))
        #expect((0...Int64(last)).allSatisfy { seen.contains($0) })
        let status = try acc.status(keyID: "crash", limits: KeyLimits(requestsPerMinute: 1, dailyTokens: 1_000_000_000))
        #expect(status.tokens.reservedTokens == 0)
        #expect(status.tokens.usedTokens == Int64(records.count) * 2)
        print("kill -9: child acknowledged \(last + 1) commits, \(records.count) found after reopen")
    }
}

/// Lines the child prints for its parent carry this prefix (swift-testing prints its own too).
private let childPrefix = "ACCOUNTING-CHILD "

private func say(_ text: String) {
    FileHandle.standardOutput.write(Data((childPrefix + text + "\n").utf8))  // unbuffered write(2)
}

/// A copy of this test binary running `Processes/childRole`.
final class Child {
    let process = Process()
    private let pipe = Pipe()
    private var buffer = Data()

    init(role: String, folder: String, extra: [String: String]) throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        process.executableURL = URL(fileURLWithPath: me)
        process.arguments = ["--testing-library", "swift-testing", "--filter", "Processes/childRole"]
        var env = ProcessInfo.processInfo.environment
        env[Processes.roleVariable] = role
        env["ACCOUNTING_CHILD_FOLDER"] = folder
        for (k, v) in extra { env[k] = v }
        process.environment = env
        process.standardOutput = pipe
        try process.run()
    }

    /// The next line the child said (prefix removed), nil at end of output.
    func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer = Data(buffer[(newline + 1)...])
                if line.hasPrefix(childPrefix) { return String(line.dropFirst(childPrefix.count)) }
                continue
            }
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    /// Reads the rest of what the child says, then waits for it.
    func waitForExit() -> [String] {
        var lines: [String] = []
        while let line = nextLine() { lines.append(line) }
        process.waitUntilExit()
        return lines
    }

    var status: Int32 { process.terminationStatus }
}

extension UsageRecord {
    func with(latency: Int64) -> UsageRecord {
        var copy = self
        copy.latencyMillis = latency
        return copy
    }
}
