@testable import Gateway
import RouteConfig
import Testing

@Suite struct ProviderCallsTests {
    @Test func eachProviderGetsItsURLCredentialAndHeadersOnce() {
        let providers = [
            Provider(id: "open", apis: [.openaiChat], baseURL: "http://127.0.0.1:1/v1", auth: .none),
            Provider(id: "bearer", apis: [.openaiChat], baseURL: "https://a.example/v1", auth: .bearer(env: "A_KEY"),
                     headers: [HeaderField(name: "OpenAI-Organization", value: "org-1")]),
            Provider(id: "custom", apis: [.openaiChat], baseURL: "https://b.example/v1", auth: .header(name: "api-key", env: "B_KEY")),
            Provider(id: "query", apis: [.openaiChat], baseURL: "https://c.example/v1beta", auth: .query(param: "key", env: "C_KEY")),
        ]
        let config = CompiledConfig(providers: providers, models: [], plans: [], routes: [], server: ServerSettings(), digest: "x")
        let env = ["A_KEY": "sk-a", "B_KEY": "b b", "C_KEY": "c/&"]
        let calls = ProviderCalls(providers: providers, secrets: ProviderSecrets(config: config, environment: { env[$0] }))

        #expect(calls[0].chatCompletionsURL.string == "http://127.0.0.1:1/v1/chat/completions")
        #expect(calls[0].jsonHeaders.lines == ["Content-Type: application/json", "Accept: application/json"])
        #expect(calls[0].streamHeaders.lines == ["Content-Type: application/json", "Accept: text/event-stream"])

        #expect(calls[1].jsonHeaders.lines == ["Content-Type: application/json", "Accept: application/json",
                                               "Authorization: Bearer sk-a", "OpenAI-Organization: org-1"])
        #expect(calls[2].streamHeaders.lines.last == "api-key: b b")
        // A query credential goes on the URL, percent-encoded, and into no header.
        #expect(calls[3].chatCompletionsURL.string == "https://c.example/v1beta/chat/completions?key=c%2F%26")
        #expect(calls[3].jsonHeaders.lines.count == 2)
    }
}

@testable import UpstreamClient

@Suite struct UpstreamURLTests {
    @Test func aProviderURLIsParsedOnceAndAnUnparsableOneFallsBackToItsText() {
        let parsed = UpstreamURL("https://c.example/v1beta/chat/completions?key=c%2F%26")
        #expect(parsed.handle != nil)
        #expect(parsed.string == "https://c.example/v1beta/chat/completions?key=c%2F%26")
        let unparsable = UpstreamURL("http://[::1")  // unterminated IPv6 literal
        #expect(unparsable.handle == nil)
        #expect(unparsable.string == "http://[::1")
    }
}
