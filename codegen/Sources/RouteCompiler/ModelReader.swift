// Reads the `models` section.

import RouteConfig

struct ModelDraft: Sendable {
    var id: Located<String>
    var provider: Located<String>?
    var upstreamID: String
    var price: Price
    var aliases: [Located<String>]
    var active: Bool
    var created: Int64
}

enum ModelReader {
    static let keys = ["provider", "upstream", "price", "aliases", "active", "created"]
    static let priceKeys = ["input", "cached_input", "output"]

    static func read(_ section: ParsedConfig.Section, diagnostics: inout Diagnostics) -> [ModelDraft] {
        SectionEntries.of(section, itemName: "model", diagnostics: &diagnostics).map { entry in
            read(entry, diagnostics: &diagnostics)
        }
    }

    static func read(_ entry: ConfigEntry, diagnostics: inout Diagnostics) -> ModelDraft {
        let subject = "model '\(entry.key)'"
        if let problem = NameRules.modelIDProblem(entry.key) {
            diagnostics.error(entry.keyLocation, "model id '\(entry.key)' \(problem)")
        }
        var draft = ModelDraft(id: Located(entry.key, at: entry.keyLocation), provider: nil, upstreamID: entry.key,
                               price: .free, aliases: [], active: true, created: 0)
        guard let reader = MappingReader(entry.value, subject: subject, owner: entry.keyLocation, keys: keys,
                                         required: ["provider"], diagnostics: &diagnostics) else { return draft }

        draft.provider = reader.string("provider", diagnostics: &diagnostics)
        if let upstream = reader.string("upstream", diagnostics: &diagnostics) {
            if let problem = NameRules.modelIDProblem(upstream.value) {
                diagnostics.error(upstream.location, "upstream id '\(upstream.value)' of \(subject) \(problem)")
            }
            draft.upstreamID = upstream.value
        }
        if let node = reader.entry("price")?.value {
            draft.price = price(node, subject: subject, diagnostics: &diagnostics)
        }
        if let aliases = reader.stringList("aliases", diagnostics: &diagnostics) {
            for alias in aliases {
                if let problem = NameRules.modelIDProblem(alias.value) {
                    diagnostics.error(alias.location, "alias '\(alias.value)' of \(subject) \(problem)")
                }
            }
            draft.aliases = aliases
        }
        if let active = reader.bool("active", diagnostics: &diagnostics) { draft.active = active.value }
        if let created = reader.int("created", minimum: 0, diagnostics: &diagnostics) { draft.created = Int64(created.value) }
        return draft
    }

    /// `{input, cached_input, output}` in credits per million tokens; `cached_input` defaults to
    /// `input`.
    private static func price(_ node: ConfigNode, subject: String, diagnostics: inout Diagnostics) -> Price {
        let what = "price of \(subject)"
        guard let reader = MappingReader(node, subject: what, owner: node.location, keys: priceKeys,
                                         required: ["input", "output"], diagnostics: &diagnostics) else { return .free }
        func micros(_ key: String) -> Int64? {
            guard let value = reader.entry(key)?.value else { return nil }
            guard let scalar = value.scalar, scalar.kind == .int || scalar.kind == .float else {
                diagnostics.error(value.location, "'\(key)' of \(what) must be a number (credits per million tokens), found \(value.kindDescription)")
                return nil
            }
            do {
                return try PriceDecimal.micros(from: scalar.text)
            } catch {
                diagnostics.error(value.location, "'\(key)' of \(what) is \(scalar.text): \(error)")
                return nil
            }
        }
        let input = micros("input") ?? 0
        return Price(inputMicros: input, cachedInputMicros: micros("cached_input") ?? input, outputMicros: micros("output") ?? 0)
    }
}
