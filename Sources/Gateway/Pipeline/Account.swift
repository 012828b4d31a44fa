#if canImport(Glibc)
import Glibc
#endif
import Accounting
import RouteConfig

/// What the account stage needs to know about one admitted request.
struct AccountingContext {
    let admission: Admission
    let keyID: String
    let model: String
    let provider: String
    let endpoint: String
    let price: Price
    let promptEstimate: Int64
    let startMillis: Int64
    var firstByteMillis: Int64?
}

/// Stage 8: the request's usage and credits, written to the ledger (and its reservation settled)
/// before the response is acknowledged to the client.
struct Account {
    let accountant: Accountant

    func callAsFunction(_ context: AccountingContext, usage: ObservedUsage, status: Int,
                        outcome: UsageRecord.Outcome) {
        let now = wallClockMillis()
        let tokens = TokenUsage(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
                                cachedPromptTokens: usage.cachedPromptTokens)
        let prices = TokenPrices(inputMicros: context.price.inputMicros, cachedInputMicros: context.price.cachedInputMicros,
                                 outputMicros: context.price.outputMicros)
        let record = UsageRecord(
            timeMillis: context.admission.reservation.admittedAtMillis, keyID: context.keyID, model: context.model,
            provider: context.provider, endpoint: context.endpoint, status: status,
            promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
            cachedPromptTokens: usage.cachedPromptTokens, reasoningTokens: usage.reasoningTokens,
            estimated: usage.estimated, creditsMicros: credits(price: prices, usage: tokens),
            latencyMillis: now - context.startMillis,
            timeToFirstByteMillis: context.firstByteMillis.map { $0 - context.startMillis }, outcome: outcome)
        do {
            try accountant.finish(context.admission.reservation, record: record)
        } catch {
            // The record and the settlement share one transaction, so both were lost. Settle
            // alone (a smaller write, no record): a reservation left in place would hold the
            // key's tokens for as long as this process lives, since only dead owners are swept.
            let settled: String
            do {
                try accountant.settle(context.admission.reservation, actualTokens: record.allowanceTokens)
                settled = "its \(record.allowanceTokens) tokens were still counted against the key's allowance"
            } catch let settleError {
                settled = "its reservation could not be released either (\(settleError))"
            }
            // Never silently: an operator must see a ledger that cannot be written.
            let line = "switchyard: usage record for key \(context.keyID) not written: \(error); \(settled)\n"
            line.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
        }
    }
}

func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
