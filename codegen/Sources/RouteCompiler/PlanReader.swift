// Reads the `plans` section.

struct PlanDraft: Sendable {
    var id: Located<String>
    var patterns: [Located<String>]
    var requestsPerMinute: Int
    var dailyTokens: Int
    var gates: [Located<String>]
}

enum PlanReader {
    static let keys = ["models", "requests_per_minute", "daily_tokens", "gates"]
    static let required = ["models", "requests_per_minute", "daily_tokens"]

    static func read(_ section: ParsedConfig.Section, diagnostics: inout Diagnostics) -> [PlanDraft] {
        SectionEntries.of(section, itemName: "plan", diagnostics: &diagnostics).map { entry in
            read(entry, diagnostics: &diagnostics)
        }
    }

    static func read(_ entry: ConfigEntry, diagnostics: inout Diagnostics) -> PlanDraft {
        let subject = "plan '\(entry.key)'"
        if !NameRules.isSimpleID(entry.key) {
            diagnostics.error(entry.keyLocation, "plan id '\(entry.key)' must be lowercase letters, digits, '-', '_' or '.'")
        }
        var draft = PlanDraft(id: Located(entry.key, at: entry.keyLocation), patterns: [], requestsPerMinute: 1,
                              dailyTokens: 1, gates: [])
        guard let reader = MappingReader(entry.value, subject: subject, owner: entry.keyLocation, keys: keys,
                                         required: required, diagnostics: &diagnostics) else { return draft }
        if let patterns = reader.stringList("models", diagnostics: &diagnostics) {
            if patterns.isEmpty, let node = reader.entry("models")?.value {
                diagnostics.error(node.location, "\(subject) allows no models; use [\"*\"] for all")
            }
            for pattern in patterns where pattern.value.unicodeScalars.contains(where: { $0.value <= 0x20 }) {
                diagnostics.error(pattern.location, "model pattern '\(pattern.value)' must not contain spaces or control characters")
            }
            draft.patterns = patterns
        }
        if let rpm = reader.int("requests_per_minute", minimum: 1, diagnostics: &diagnostics) { draft.requestsPerMinute = rpm.value }
        if let daily = reader.int("daily_tokens", minimum: 1, diagnostics: &diagnostics) { draft.dailyTokens = daily.value }
        if let gates = reader.stringList("gates", diagnostics: &diagnostics) { draft.gates = gates }
        return draft
    }
}
