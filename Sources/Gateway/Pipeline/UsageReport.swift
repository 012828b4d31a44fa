import Accounting
import SwitchyardJSON

/// `GET /v1/usage`: the calling key's usage today and what is left of its limits.
struct UsageReport {
    let accountant: Accountant

    func callAsFunction(_ caller: Caller) throws(GatewayError) -> (body: [UInt8], headers: [(String, String)]) {
        let snapshot: KeyUsageSnapshot
        do {
            snapshot = try accountant.today(keyID: caller.key.id, limits: Admit.limits(for: caller))
        } catch {
            throw GatewayError(.internalFailure, "Usage accounting is unavailable (\(error)). Retry shortly.")
        }
        let today = JSONDocument.object()
        today.set("requests", Int(snapshot.today.requests))
        today.set("prompt_tokens", Int(snapshot.today.promptTokens))
        today.set("completion_tokens", Int(snapshot.today.completionTokens))
        today.set("cached_prompt_tokens", Int(snapshot.today.cachedPromptTokens))
        today.set("total_tokens", Int(snapshot.today.totalTokens))
        today.set("credits", creditsText(micros: snapshot.today.creditsMicros))
        today.set("rejected_requests", Int(snapshot.today.rejectedRequests))
        today.set("client_disconnects", Int(snapshot.today.clientDisconnects))
        let tokens = JSONDocument.object()
        tokens.set("limit", Int(snapshot.tokens.limit))
        tokens.set("used", Int(snapshot.tokens.usedTokens))
        tokens.set("reserved", Int(snapshot.tokens.reservedTokens))
        tokens.set("remaining", Int(snapshot.tokens.remaining))
        tokens.set("resets_in_seconds", Int((snapshot.tokens.resetMillis + 999) / 1000))
        let requests = JSONDocument.object()
        requests.set("limit_per_minute", snapshot.requests.limit)
        requests.set("remaining", snapshot.requests.remaining)
        requests.set("in_current_window", snapshot.requests.inWindow)
        let root = JSONDocument.object()
        root.set("object", "usage")
        root.set("key_id", caller.key.id)
        root.set("plan", caller.plan.plan.id)
        root.set("day", snapshot.day.description)
        root.set("today", today)
        root.set("tokens", tokens)
        root.set("requests", requests)
        return (root.serialized(), OpenAIRateLimitHeaders.make(requests: snapshot.requests, tokens: snapshot.tokens))
    }
}
