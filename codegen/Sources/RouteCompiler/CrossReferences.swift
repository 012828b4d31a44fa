// The checks that span sections: names that must exist, names that must be unique, and whether
// every provider can be reached at all.

import RouteConfig

struct CrossReferences {
    let parsed: ParsedConfig
    let providers: [ProviderDraft]
    let models: [ModelDraft]
    let plans: [PlanDraft]
    let routes: [RouteDraft]

    func check(diagnostics: inout Diagnostics) {
        checkSectionsPresent(diagnostics: &diagnostics)
        checkModelProviders(diagnostics: &diagnostics)
        checkModelNames(diagnostics: &diagnostics)
        checkPlans(diagnostics: &diagnostics)
        checkRoutes(diagnostics: &diagnostics)
        checkProviderUsage(diagnostics: &diagnostics)
    }

    /// A section that is absent may sit in a file that failed to parse; then references into it
    /// are not reported, as they would all be false alarms.
    private func isUnknown(_ section: ConfigSection) -> Bool {
        parsed.sections[section] == nil && !parsed.unreadableFiles.isEmpty
    }

    private func checkSectionsPresent(diagnostics: inout Diagnostics) {
        guard parsed.unreadableFiles.isEmpty, !parsed.files.isEmpty else { return }
        if parsed.sections[.routes] == nil {
            diagnostics.error(nil, "no 'routes' section in any config file: the gateway would serve nothing")
        }
        if parsed.sections[.models] == nil { diagnostics.warning(nil, "no 'models' section in any config file") }
        if parsed.sections[.plans] == nil { diagnostics.warning(nil, "no 'plans' section: no API key can use any model") }
    }

    private func checkModelProviders(diagnostics: inout Diagnostics) {
        guard !isUnknown(.providers) else { return }
        let ids = providers.map(\.id.value)
        for model in models {
            guard let provider = model.provider, !ids.contains(provider.value) else { continue }
            diagnostics.error(provider.location,
                              "model '\(model.id.value)' names unknown provider '\(provider.value)'\(KeySuggestion.hint(for: provider.value, among: ids))")
        }
    }

    /// Ids and aliases share one namespace: a name a client sends must pick exactly one model.
    private func checkModelNames(diagnostics: inout Diagnostics) {
        struct Owner { var model: String; var location: SourceLocation; var isAlias: Bool }
        var owners: [String: Owner] = [:]
        for model in models where owners[model.id.value] == nil {
            owners[model.id.value] = Owner(model: model.id.value, location: model.id.location, isAlias: false)
        }
        // In file order, so the later of two clashing aliases is the one reported.
        let aliases = models.flatMap { model in model.aliases.map { (model: model.id.value, alias: $0) } }
            .sorted { $0.alias.location < $1.alias.location }
        for (model, alias) in aliases {
            if alias.value == model {
                diagnostics.error(alias.location, "alias '\(alias.value)' of model '\(model)' is the model's own id")
            } else if let owner = owners[alias.value] {
                let clash = owner.isAlias
                    ? (owner.model == model ? "is listed twice for model '\(model)'" : "is already an alias of model '\(owner.model)' (\(owner.location.reference(from: alias.location)))")
                    : "is already the id of a model (\(owner.location.reference(from: alias.location)))"
                diagnostics.error(alias.location, "alias '\(alias.value)' of model '\(model)' \(clash)")
            } else {
                owners[alias.value] = Owner(model: model, location: alias.location, isAlias: true)
            }
        }
    }

    private func checkPlans(diagnostics: inout Diagnostics) {
        let modelIDs = models.map(\.id.value)
        let providerIDs = providers.map(\.id.value)
        for plan in plans {
            var seen = Set<String>()
            for pattern in plan.patterns {
                guard seen.insert(pattern.value).inserted else {
                    diagnostics.warning(pattern.location, "model pattern '\(pattern.value)' is listed twice in plan '\(plan.id.value)'")
                    continue
                }
                guard !isUnknown(.models), !modelIDs.contains(where: { ModelPattern.matches(pattern.value, $0) }) else { continue }
                var hint = ""
                if let aliased = models.first(where: { $0.aliases.contains { ModelPattern.matches(pattern.value, $0.value) } }) {
                    hint = " (it matches an alias of '\(aliased.id.value)'; plans list model ids)"
                } else if !pattern.value.contains("*") {
                    hint = KeySuggestion.hint(for: pattern.value, among: modelIDs)
                }
                diagnostics.error(pattern.location, "model pattern '\(pattern.value)' in plan '\(plan.id.value)' matches no model\(hint)")
            }
            var seenGates = Set<String>()
            for gate in plan.gates {
                guard seenGates.insert(gate.value).inserted else {
                    diagnostics.warning(gate.location, "gate '\(gate.value)' is listed twice in plan '\(plan.id.value)'")
                    continue
                }
                guard !isUnknown(.providers), !providerIDs.contains(gate.value) else { continue }
                diagnostics.error(gate.location,
                                  "gate '\(gate.value)' in plan '\(plan.id.value)' names no provider\(KeySuggestion.hint(for: gate.value, among: providerIDs))")
            }
        }
    }

    private func checkRoutes(diagnostics: inout Diagnostics) {
        var first: [String: SourceLocation] = [:]
        for route in routes {
            let key = "\(route.method.value) \(route.path.value)"
            if let earlier = first[key] {
                diagnostics.error(route.location, "route \(key) is already defined at \(earlier.reference(from: route.location))")
            } else {
                first[key] = route.location
            }
        }
    }

    /// A provider is reachable when a route speaks one of its apis, or a plan gates it
    /// (pass-through). No translation between wire formats exists yet, so an unreachable provider
    /// with models is a warning (the config is still usable), not an error. An empty `api` list is
    /// an error, reported by the provider reader.
    private func checkProviderUsage(diagnostics: inout Diagnostics) {
        guard !isUnknown(.routes), !isUnknown(.plans), !isUnknown(.models) else { return }
        let served = Set(routes.compactMap(\.target.value.clientAPI))
        let gated = Set(plans.flatMap { $0.gates.map(\.value) })
        let servedList = served.isEmpty ? "none" : served.sorted().map(\.rawValue).joined(separator: ", ")
        for provider in providers where !provider.apis.isEmpty {
            if provider.apis.contains(where: { served.contains($0.value) }) || gated.contains(provider.id.value) { continue }
            let modelCount = models.count { $0.provider?.value == provider.id.value }
            let apis = provider.apis.map(\.value.rawValue).joined(separator: ", ")
            if modelCount > 0 {
                diagnostics.warning(provider.id.location,
                                    "provider '\(provider.id.value)' speaks \(apis) but routes serve only \(servedList) and no plan gates it: its \(modelCount) model(s) cannot be served yet")
            } else {
                diagnostics.warning(provider.id.location, "provider '\(provider.id.value)' is unused: it has no models and no plan gates it")
            }
        }
    }
}
