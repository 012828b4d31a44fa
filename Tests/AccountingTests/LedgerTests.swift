import Foundation
import Testing
@testable import Accounting

@Suite struct Ledger {
    /// The one credits formatter: `GET /v1/usage` and `switchyard usage` (6 decimals), prices in
    /// `switchyard routes` (at least 2).
    @Test func creditsText() {
        #expect(Accounting.creditsText(micros: 0) == "0.000000")
        #expect(Accounting.creditsText(micros: 7250) == "0.007250")
        #expect(Accounting.creditsText(micros: 1_234_567) == "1.234567")
        #expect(Accounting.creditsText(micros: 10_000_000) == "10.000000")
        #expect(Accounting.creditsText(micros: Int64.max) == "9223372036854.775807")
        #expect(Accounting.creditsText(micros: -5) == "-0.000005")
        #expect(Accounting.creditsText(micros: Int64.min) == "-9223372036854.775808")
        #expect(Accounting.creditsText(micros: 2_500_000, minimumFractionDigits: 2) == "2.50")
        #expect(Accounting.creditsText(micros: 10_000_000, minimumFractionDigits: 2) == "10.00")
        #expect(Accounting.creditsText(micros: 0, minimumFractionDigits: 2) == "0.00")
        #expect(Accounting.creditsText(micros: 1_250_000, minimumFractionDigits: 2) == "1.25")
        #expect(Accounting.creditsText(micros: 150_000, minimumFractionDigits: 2) == "0.15")
        #expect(Accounting.creditsText(micros: 125, minimumFractionDigits: 2) == "0.000125")
    }

    @Test func creditsArithmeticIsExact() {
        // $2.50 / $1.25 / $10.00 per million, in millionths of a credit.
        let price = TokenPrices(inputMicros: 2_500_000, cachedInputMicros: 1_250_000, outputMicros: 10_000_000)
        // (1000 − 200) × 2.5 + 200 × 1.25 + 500 × 10 = 2000 + 250 + 5000 = 7250 micro-credits.
        #expect(credits(price: price, usage: TokenUsage(promptTokens: 1000, completionTokens: 500, cachedPromptTokens: 200)) == 7250)
        // 1 token at 2.5 micro-credits → 2.5 → rounds half up to 3; 1 at 1.25 → 1.
        #expect(credits(price: price, usage: TokenUsage(promptTokens: 1, completionTokens: 0)) == 3)
        #expect(credits(price: price, usage: TokenUsage(promptTokens: 1, completionTokens: 0, cachedPromptTokens: 1)) == 1)
        // 0.4999995 rounds down, 0.5 rounds up.
        let tiny = TokenPrices(inputMicros: 499_999, cachedInputMicros: 0, outputMicros: 500_000)
        #expect(credits(price: tiny, usage: TokenUsage(promptTokens: 1, completionTokens: 0)) == 0)
        #expect(credits(price: tiny, usage: TokenUsage(promptTokens: 0, completionTokens: 1)) == 1)
        // Cached beyond prompt is clamped; negatives count as zero.
        #expect(credits(price: price, usage: TokenUsage(promptTokens: 10, completionTokens: -5, cachedPromptTokens: 50)) == 13)
        // Products past 64 bits stay exact: 4e12 tokens × 4e12 micro-credits / 1e6 = 1.6e19 saturates;
        // 3e12 × 3e12 / 1e6 = 9e18 fits (just under Int64.max ≈ 9.22e18).
        let huge = TokenPrices(inputMicros: 3_000_000_000_000, cachedInputMicros: 0, outputMicros: 4_000_000_000_000)
        #expect(credits(price: huge, usage: TokenUsage(promptTokens: 3_000_000_000_000, completionTokens: 0)) == 9_000_000_000_000_000_000)
        #expect(credits(price: huge, usage: TokenUsage(promptTokens: 0, completionTokens: 4_000_000_000_000)) == Int64.max)
        #expect(credits(price: TokenPrices(inputMicros: 0, cachedInputMicros: 0, outputMicros: 0),
                        usage: TokenUsage(promptTokens: 99, completionTokens: 99)) == 0)
    }

    @Test func recordsRoundTripAndRangeQueries() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let clock = ManualClock(millis: utc(2025, 6, 3, 8))
        let acc = try Accountant(directory: folder.path, clock: clock, options: testOptions())
        let full = UsageRecord(timeMillis: utc(2025, 6, 1, 10), keyID: "key-a", model: "gpt-x", provider: "openai",
                               endpoint: "/v1/chat/completions", status: 200, promptTokens: 120, completionTokens: 30,
                               cachedPromptTokens: 100, reasoningTokens: 7, estimated: true, creditsMicros: 4242,
                               latencyMillis: 850, timeToFirstByteMillis: 95, outcome: .ok)
        try acc.append(full)
        try acc.append(record(utc(2025, 6, 1, 11), key: "key-b", model: "claude-y", prompt: 10, completion: 5, credits: 7,
                              outcome: .clientDisconnected))
        try acc.append(UsageRecord(timeMillis: utc(2025, 6, 2, 1), keyID: "key-a", model: "gpt-x", provider: "openai",
                                   endpoint: "/v1/chat/completions", status: 429,
                                   outcome: .rejected(reason: LimitReason.dailyTokens.rawValue)))
        try acc.append(record(utc(2025, 6, 2, 9), key: "key-a", model: "claude-y", prompt: 1, completion: 1, credits: 2,
                              outcome: .upstreamError))
        try acc.append(record(utc(2025, 6, 3, 7), key: "key-b", model: "gpt-x", prompt: 3, completion: 4, credits: 5))
        // Same millisecond twice: both kept, in commit order.
        try acc.append(record(utc(2025, 6, 3, 7), key: "key-c", model: "gpt-x", prompt: 1))

        let all = try acc.records()
        #expect(all.count == 6)
        #expect(all.first == full)
        #expect(all.map(\.timeMillis) == all.map(\.timeMillis).sorted())
        #expect(all[4].keyID == "key-b" && all[5].keyID == "key-c")
        #expect(all[2].outcome == .rejected(reason: "daily_tokens") && all[2].timeToFirstByteMillis == nil)

        let june2 = try acc.records(fromMillis: utc(2025, 6, 2), toMillis: utc(2025, 6, 3))
        #expect(june2.count == 2)
        #expect(try acc.records(keyID: "key-a").count == 3)
        #expect(try acc.records(limit: 2).count == 2)

        let byDay = try acc.totals(by: .day)
        #expect(byDay.map(\.group) == ["2025-06-01", "2025-06-02", "2025-06-03"])
        #expect(byDay[0].totals.requests == 2 && byDay[0].totals.promptTokens == 130 && byDay[0].totals.creditsMicros == 4249)
        #expect(byDay[0].totals.cachedPromptTokens == 100 && byDay[0].totals.reasoningTokens == 7)
        #expect(byDay[0].totals.estimatedRequests == 1 && byDay[0].totals.clientDisconnects == 1)
        #expect(byDay[1].totals.rejectedRequests == 1 && byDay[1].totals.upstreamErrors == 1)

        let byModel = try acc.totals(by: .model, keyID: "key-a")
        #expect(byModel.map(\.group) == ["claude-y", "gpt-x"])
        #expect(byModel[1].totals.requests == 2 && byModel[1].totals.totalTokens == 150)

        let byKeySince = try acc.totals(by: .key, since: UTCDay("2025-06-02"))
        #expect(byKeySince.map(\.group) == ["key-a", "key-b", "key-c"])
        #expect(byKeySince[0].totals.requests == 2 && byKeySince[1].totals.creditsMicros == 5)

        // Today (June 3) for key-b: the record's tokens count against the allowance too.
        let snap = try acc.today(keyID: "key-b", limits: KeyLimits(requestsPerMinute: 60, dailyTokens: 100))
        #expect(snap.day.description == "2025-06-03")
        #expect(snap.today.requests == 1 && snap.today.creditsMicros == 5)
        #expect(snap.tokens.usedTokens == 7 && snap.tokens.remaining == 93)
        #expect(snap.requests.inWindow == 0 && snap.requests.remaining == 60)
    }

    /// A finished request's record is stored under its reservation's id; finishing the same
    /// reservation again at the same millisecond must add a record, never replace one.
    @Test func finishedRecordsNeverReplaceEachOther() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let acc = try Accountant(directory: folder.path, clock: ManualClock(millis: utc(2025, 6, 1)), options: testOptions())
        let limits = KeyLimits(requestsPerMinute: 100, dailyTokens: 1_000)
        let first = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 10).reservation)
        let second = try #require(try acc.admit(keyID: "k", limits: limits, estimatedTokens: 10).reservation)
        let at = utc(2025, 6, 1, 12)
        try acc.append(record(at, key: "k", prompt: 1))
        try acc.finish(second, record: record(at, key: "k", prompt: 2))
        try acc.finish(first, record: record(at, key: "k", prompt: 3))
        try acc.finish(first, record: record(at, key: "k", prompt: 4))
        let all = try acc.records()
        #expect(all.count == 4)
        // Same millisecond: in the order the ids were taken (admissions first, then the append
        // and the repeated finish, which take new ids).
        #expect(all.map(\.promptTokens) == [3, 2, 1, 4])
        #expect(try acc.totals(by: .day).first?.totals.promptTokens == 10)
    }

    @Test func rejectsUnstorableInput() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let acc = try Accountant(directory: folder.path, clock: ManualClock(millis: 0), options: testOptions())
        #expect(throws: AccountingError.self) { try acc.append(record(0, key: "a\u{0}b")) }
        #expect(throws: AccountingError.self) {
            try acc.admit(keyID: "k", limits: KeyLimits(requestsPerMinute: 0, dailyTokens: 1), estimatedTokens: 0)
        }
        let r = try #require(try acc.admit(keyID: "k", limits: KeyLimits(requestsPerMinute: 1, dailyTokens: 1), estimatedTokens: 0).reservation)
        #expect(throws: AccountingError.self) { try acc.finish(r, record: record(0, key: "other")) }
        acc.close()
        let closed = #expect(throws: AccountingError.self) { try acc.records() }
        #expect(closed?.description.contains("closed") == true)
    }

    /// The reason texts (shared with the key store through LMDBSupport, the hints are the usage
    /// store's own): LMDB's words for LMDB codes and errno values alike, plus a hint.
    @Test func storageFailureWording() {
        #expect(AccountingError.storage("/d/usage", "admit request", rc: -30792).description
                == "usage store at /d/usage: admit request: MDB_MAP_FULL: Environment mapsize limit reached "
                + "(the usage store is full; raise its map size)")
        #expect(AccountingError.storage("/d/usage", "admit request", rc: -30792).isFull)
        #expect(AccountingError.cannotOpen("/d/usage", rc: EACCES).description
                == "cannot open usage store at /d/usage: Permission denied")
        #expect(AccountingError.closed("/d/usage").description == "usage store at /d/usage is closed")
    }

    /// The ledger is read through LMDB's map; without releasing its pages, every page ever
    /// written would stay in this process's RSS (~200 B per request).
    @Test func ledgerPagesAreReleasedFromMemoryAfterWrites() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        var options = testOptions()
        options.releasePages = false  // released only when this test says so
        let acc = try Accountant(directory: folder.path, clock: ManualClock(millis: utc(2025, 6, 3)), options: options)
        let file = folder.path + "/usage/data.mdb"
        for i in 0..<20_000 {
            try acc.append(record(utc(2025, 6, 3) + Int64(i), key: "key-\(i % 50)", prompt: 10, completion: 5, credits: 1))
        }
        let before = residentKiB(of: file)
        #expect(before > 2_000, "20,000 records should keep megabytes of the map resident, found \(before) KiB")
        acc.releaseResidentPages()
        let after = residentKiB(of: file)
        #expect(after < before / 4, "resident \(before) KiB before the release, \(after) KiB after")
        // Nothing is lost: the pages come back from the file when read.
        #expect(try acc.records().count == 20_000)
        // Reads alone do not trigger another release (nothing new to drop)...
        _ = try acc.records()
        let reread = residentKiB(of: file)
        #expect(reread > after)
        acc.releaseResidentPages()
        #expect(residentKiB(of: file) == reread)
        // ...a commit does.
        try acc.append(record(utc(2025, 6, 3, 12), key: "key-0", prompt: 1))
        acc.releaseResidentPages()
        #expect(residentKiB(of: file) < reread / 4)
    }

    private func residentKiB(of file: String) -> Int {
        // Read to the end: /proc files report a size of 0, so size-based readers get nothing.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return -1 }
        defer { try? handle.close() }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var total = 0
        var inFile = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, !first.isUppercase || line.split(separator: " ").first?.hasSuffix(":") == false {
                inFile = line.hasSuffix(" " + file)
            } else if inFile, line.hasPrefix("Rss:") {
                total += Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
            }
        }
        return total
    }
}
