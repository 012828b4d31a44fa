@testable import Gateway
import RouteConfig
import Testing

@Suite struct ModelCatalogTests {
    let catalog: ModelCatalog = {
        let providers = [Provider(id: "mock", apis: [.openaiChat], baseURL: "http://127.0.0.1:1/v1", auth: .none),
                         Provider(id: "openai", apis: [.openaiChat], baseURL: "https://api.openai.com/v1", auth: .bearer(env: "OPENAI_API_KEY"))]
        let models = [Model(id: "mock-a", provider: 0, upstreamID: "mock-a-1", aliases: ["mock-alias"]),
                      Model(id: "mock-old", provider: 0, upstreamID: "mock-old", active: false),
                      Model(id: "gpt-4o", provider: 1, upstreamID: "gpt-4o-2024-08-06")]
        let plans = [Plan(id: "free", models: ["mock-*"], requestsPerMinute: 1, dailyTokens: 1),
                     Plan(id: "pro", models: ["*"], requestsPerMinute: 1, dailyTokens: 1)]
        let routes = [Route(method: "POST", path: "/v1/chat/completions", target: .openaiChat),
                      Route(method: "GET", path: "/v1/models", target: .models),
                      Route(method: "GET", path: "/v1/models/{model}", target: .model)]
        return ModelCatalog(config: CompiledConfig(providers: providers, models: models, plans: plans, routes: routes,
                                                   server: ServerSettings(), digest: "x"))
    }()

    @Test func resolvesIdsAndAliases() {
        #expect(catalog.model(named: "mock-a") == 0)
        #expect(catalog.model(named: "mock-alias") == 0)
        #expect(catalog.model(named: "nope") == nil)
    }

    @Test func plansAllowByPattern() {
        let free = catalog.plan("free")!
        #expect(free.allows(0) && free.allows(1) && !free.allows(2))
        #expect(catalog.plan("pro")!.allowedModels == [0, 1, 2])
        #expect(catalog.plan("gone") == nil)
    }

    @Test func routesByMethodAndPath() {
        #expect(catalog.route(method: "POST", path: "/v1/chat/completions") == .found(.openaiChat))
        #expect(catalog.route(method: "GET", path: "/v1/chat/completions") == .wrongMethod)
        #expect(catalog.allowedMethods(path: "/v1/chat/completions") == ["POST"])
        #expect(catalog.route(method: "HEAD", path: "/v1/models") == .found(.models))
        #expect(catalog.route(method: "GET", path: "/v2/x") == .notFound)
    }

    @Test func modelRouteTakesTheRestOfThePath() {
        #expect(catalog.route(method: "GET", path: "/v1/models/mock-a") == .found(.model, parameter: "mock-a"))
        #expect(catalog.route(method: "HEAD", path: "/v1/models/org/name") == .found(.model, parameter: "org/name"))
        // The exact route wins; an empty id is no match; other methods are refused.
        #expect(catalog.route(method: "GET", path: "/v1/models") == .found(.models))
        #expect(catalog.route(method: "GET", path: "/v1/models/") == .notFound)
        #expect(catalog.route(method: "DELETE", path: "/v1/models/mock-a") == .wrongMethod)
        #expect(catalog.allowedMethods(path: "/v1/models/mock-a") == ["GET", "HEAD"])
        #expect(catalog.route(method: "GET", path: "/v1/modelsx") == .notFound)
        // The route's own spelling is an id like any other (it was taken for an exact path: 405).
        #expect(catalog.route(method: "GET", path: "/v1/models/{model}") == .found(.model, parameter: "{model}"))
    }

    @Test func pathParametersArePercentDecoded() {
        #expect(RetrieveModel.percentDecoded("mock-a") == "mock-a")
        #expect(RetrieveModel.percentDecoded("org%2Fname%20x") == "org/name x")
        #expect(RetrieveModel.percentDecoded("caf%C3%A9") == "café")
        #expect(RetrieveModel.percentDecoded("bad%2") == nil)
        #expect(RetrieveModel.percentDecoded("bad%zz") == nil)
        #expect(RetrieveModel.percentDecoded("%FF") == nil)  // not UTF-8
    }

    @Test func missingSecretsAreReportedByNameOnly() {
        let secrets = ProviderSecrets(config: catalog.config, environment: { _ in nil })
        #expect(secrets.missing.map(\.variable) == ["OPENAI_API_KEY"])
        let present = ProviderSecrets(config: catalog.config, environment: { $0 == "OPENAI_API_KEY" ? "sk-secret" : nil })
        #expect(present.missing.isEmpty)
        guard case .header(let line)? = present.credentials[1] else { Issue.record("expected a header credential"); return }
        #expect(line == "Authorization: Bearer sk-secret")
    }
}
