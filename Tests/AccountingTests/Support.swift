import Foundation
@testable import Accounting

/// A fresh folder under the system temp dir for one test, removed by `remove()`.
struct TempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("accounting-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Unix ms of a UTC date and time.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0, ms: Int = 0) -> Int64 {
    UTCDay(year: y, month: mo, day: d)!.startMillis + Int64(((h * 60 + mi) * 60 + s) * 1000 + ms)
}

/// Options for tests: no background thread unless a test wants one.
func testOptions(rule: TokenAdmissionRule = .belowLimit) -> Accountant.Options {
    var o = Accountant.Options()
    o.syncIntervalMillis = 100
    o.sweepIntervalMillis = 0
    o.mapSize = 1 << 28
    o.tokenRule = rule
    return o
}

extension AdmissionResult {
    var isAdmitted: Bool { reservation != nil }
    var rejection: (LimitReason, Int)? {
        if case let .rejected(reason, wait) = decision { return (reason, wait) }
        return nil
    }
}

func record(_ time: Int64, key: String, model: String = "gpt-test", prompt: Int64 = 0, completion: Int64 = 0,
            cached: Int64 = 0, credits: Int64 = 0, outcome: UsageRecord.Outcome = .ok) -> UsageRecord {
    UsageRecord(timeMillis: time, keyID: key, model: model, provider: "mock", endpoint: "/v1/chat/completions",
                status: 200, promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached,
                creditsMicros: credits, latencyMillis: 12, timeToFirstByteMillis: 3, outcome: outcome)
}
