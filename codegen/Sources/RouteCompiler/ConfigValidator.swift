// Stage 2 of 3: sections → a validated `CompiledConfig`.
//
// First each section is read on its own (types, required and unknown keys, value rules), then the
// cross-references between sections are checked. Everything is reported; a config is produced only
// when there is no error. Output order is fixed here: providers, models and plans sorted by id,
// list-valued sets (aliases, patterns, gates, headers) sorted, routes in file order.

import RouteConfig

public enum ConfigValidator {
    public static func validate(_ parsed: ParsedConfig, diagnostics: inout Diagnostics) -> CompiledConfig? {
        let providers = parsed.sections[.providers].map { ProviderReader.read($0, diagnostics: &diagnostics) } ?? []
        let models = parsed.sections[.models].map { ModelReader.read($0, diagnostics: &diagnostics) } ?? []
        let plans = parsed.sections[.plans].map { PlanReader.read($0, diagnostics: &diagnostics) } ?? []
        let routes = parsed.sections[.routes].map { RouteReader.read($0, diagnostics: &diagnostics) } ?? []
        let server = ServerReader.read(parsed.sections[.server], diagnostics: &diagnostics)

        let references = CrossReferences(parsed: parsed, providers: providers, models: models, plans: plans, routes: routes)
        references.check(diagnostics: &diagnostics)

        guard !diagnostics.hasErrors else { return nil }
        return assemble(providers: providers, models: models, plans: plans, routes: routes, server: server)
    }

    static func assemble(providers: [ProviderDraft], models: [ModelDraft], plans: [PlanDraft], routes: [RouteDraft],
                         server: ServerSettings) -> CompiledConfig {
        let sortedProviders = providers.sorted { $0.id.value < $1.id.value }.map { draft in
            Provider(id: draft.id.value,
                     apis: WireAPI.allCases.filter { api in draft.apis.contains { $0.value == api } },
                     baseURL: draft.baseURL, auth: draft.auth, headers: draft.headers,
                     connectTimeoutMs: draft.connectTimeoutMs, readTimeoutMs: draft.readTimeoutMs)
        }
        let providerIndex = Dictionary(uniqueKeysWithValues: sortedProviders.enumerated().map { ($1.id, $0) })
        let sortedModels = models.sorted { $0.id.value < $1.id.value }.map { draft in
            Model(id: draft.id.value, provider: providerIndex[draft.provider!.value]!, upstreamID: draft.upstreamID,
                  price: draft.price, aliases: sortedUnique(draft.aliases), active: draft.active, created: draft.created)
        }
        let sortedPlans = plans.sorted { $0.id.value < $1.id.value }.map { draft in
            Plan(id: draft.id.value, models: sortedUnique(draft.patterns), requestsPerMinute: draft.requestsPerMinute,
                 dailyTokens: draft.dailyTokens, gates: sortedUnique(draft.gates))
        }
        let orderedRoutes = routes.map { Route(method: $0.method.value, path: $0.path.value, target: $0.target.value) }
        var config = CompiledConfig(providers: sortedProviders, models: sortedModels, plans: sortedPlans,
                                    routes: orderedRoutes, server: server, digest: "")
        config.digest = ConfigDigest.digest(of: config)
        return config
    }

    private static func sortedUnique(_ values: [Located<String>]) -> [String] {
        Array(Set(values.map(\.value))).sorted()
    }
}
