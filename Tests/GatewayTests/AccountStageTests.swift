import Foundation
import Testing
import Accounting
import RouteConfig
@testable import Gateway

/// The Account stage on a real usage store (a temporary LMDB folder).
@Suite struct AccountStageTests {
    /// A record the ledger refuses (here a model name over the record's size limit) loses the
    /// record, but the reservation is still settled: otherwise it would hold the key's tokens for
    /// as long as the process lives.
    @Test func aRecordThatCannotBeWrittenStillSettlesTheReservation() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("account-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let accountant = try Accountant(directory: folder)
        defer { accountant.close() }
        let limits = KeyLimits(requestsPerMinute: 100, dailyTokens: 1000)
        let admitted = try accountant.admit(keyID: "key_a", limits: limits, estimatedTokens: 400)
        let reservation = try #require(admitted.reservation)
        #expect(try accountant.status(keyID: "key_a", limits: limits).tokens.reservedTokens == 400)

        let context = AccountingContext(admission: Admission(reservation: reservation, headers: []), keyID: "key_a",
                                        model: String(repeating: "m", count: 100_000), provider: "mock",
                                        endpoint: "openai-chat", price: .free, promptEstimate: 400, startMillis: 0)
        var usage = ObservedUsage.none
        usage.promptTokens = 30; usage.completionTokens = 12
        Account(accountant: accountant)(context, usage: usage, status: 200, outcome: .ok)

        let tokens = try accountant.status(keyID: "key_a", limits: limits).tokens
        #expect(tokens.reservedTokens == 0)
        #expect(tokens.usedTokens == 42)
    }
}
