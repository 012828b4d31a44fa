import Accounting
import ArgumentParser
import SwitchyardJSON

struct Usage: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report usage totals from the ledger.")

    @Option(help: "Only this key id.") var key: String?
    @Option(help: "Only days from this UTC date on (YYYY-MM-DD).") var since: String?
    @Option(help: "Group by day, model or key.") var by: String = "day"
    @Flag(help: "JSON lines for scripts.") var json = false
    @OptionGroup var data: DataOptions

    func run() throws {
        guard let grouping = UsageGrouping(rawValue: by) else { throw ValidationError("--by must be day, model or key") }
        var day: UTCDay?
        if let since {
            guard let parsed = UTCDay(since) else { throw ValidationError("--since must be a date like 2026-11-23") }
            day = parsed
        }
        let accountant = try Accountant(directory: data.data)
        defer { accountant.close() }
        let rows = try accountant.totals(by: grouping, keyID: key, since: day)
        if !json {
            print("\(by.padding(28)) requests  prompt_tokens  completion_tokens  cached  credits        rejected  disconnects  estimated")
        }
        for row in rows {
            let t = row.totals
            if json {
                let o = JSONDocument.object()
                o.set(by, row.group)
                o.set("requests", Int(t.requests)); o.set("prompt_tokens", Int(t.promptTokens))
                o.set("completion_tokens", Int(t.completionTokens)); o.set("cached_prompt_tokens", Int(t.cachedPromptTokens))
                o.set("reasoning_tokens", Int(t.reasoningTokens)); o.set("total_tokens", Int(t.totalTokens))
                o.set("credits", creditsText(micros: t.creditsMicros)); o.set("rejected", Int(t.rejectedRequests))
                o.set("upstream_errors", Int(t.upstreamErrors)); o.set("client_disconnects", Int(t.clientDisconnects))
                o.set("estimated", Int(t.estimatedRequests))
                print(String(decoding: o.serialized(), as: UTF8.self))
            } else {
                print("\(row.group.padding(28)) \(String(t.requests).padding(9)) \(String(t.promptTokens).padding(14)) \(String(t.completionTokens).padding(18)) \(String(t.cachedPromptTokens).padding(7)) \(creditsText(micros: t.creditsMicros).padding(14)) \(String(t.rejectedRequests).padding(9)) \(String(t.clientDisconnects).padding(12)) \(t.estimatedRequests)")
            }
        }
    }
}
