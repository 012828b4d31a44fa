// Reads one YAML mapping with a fixed set of keys: reports unknown keys (with the closest known
// key), missing required keys and values of the wrong type, and hands back typed values with their
// positions. Every problem is logged; a getter returns nil so the caller just skips that field.

struct MappingReader {
    /// The entries by key. Yams already rejects repeated keys within one mapping.
    private let entries: [String: ConfigEntry]
    /// What the mapping is, for messages: "provider 'openai'".
    let subject: String
    /// Whether a key was reported as unknown: a later "missing …" error would only repeat it.
    let hasUnknownKeys: Bool

    /// Nil (with an error logged) when `node` is not a mapping.
    init?(_ node: ConfigNode, subject: String, owner: SourceLocation, keys: [String], required: [String] = [],
          diagnostics: inout Diagnostics) {
        self.subject = subject
        guard case .mapping(let list) = node.content else {
            let needs = required.isEmpty ? "" : " with \(required.map { "'\($0)'" }.joined(separator: ", "))"
            diagnostics.error(node.isNull ? owner : node.location,
                              "\(subject) must be a mapping\(needs), found \(node.kindDescription)")
            return nil
        }
        var byKey: [String: ConfigEntry] = [:]
        var suggested = Set<String>()
        for entry in list {
            if keys.contains(entry.key) {
                byKey[entry.key] = entry
            } else {
                let suggestion = KeySuggestion.closest(to: entry.key, among: keys)
                if let suggestion { suggested.insert(suggestion) }
                diagnostics.error(entry.keyLocation,
                                  "unknown key '\(entry.key)' in \(subject)\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")")
            }
        }
        entries = byKey
        hasUnknownKeys = byKey.count < list.count
        // A misspelt required key is reported once, as the typo.
        for key in required where byKey[key] == nil && !suggested.contains(key) {
            diagnostics.error(owner, "\(subject) is missing required key '\(key)'")
        }
    }

    func entry(_ key: String) -> ConfigEntry? { entries[key] }

    func contains(_ key: String) -> Bool { entries[key] != nil }

    /// A non-empty string.
    func string(_ key: String, diagnostics: inout Diagnostics) -> Located<String>? {
        guard let entry = entries[key] else { return nil }
        return Self.string(entry.value, what: "'\(key)' of \(subject)", diagnostics: &diagnostics)
    }

    static func string(_ node: ConfigNode, what: String, diagnostics: inout Diagnostics) -> Located<String>? {
        guard let scalar = node.scalar, scalar.kind == .string else {
            diagnostics.error(node.location, "\(what) must be a string, found \(node.kindDescription)")
            return nil
        }
        guard !scalar.text.isEmpty else {
            diagnostics.error(node.location, "\(what) must not be empty")
            return nil
        }
        return Located(scalar.text, at: node.location)
    }

    /// An integer no smaller than `minimum`.
    func int(_ key: String, minimum: Int, diagnostics: inout Diagnostics) -> Located<Int>? {
        guard let entry = entries[key] else { return nil }
        let node = entry.value
        guard let scalar = node.scalar, scalar.kind == .int else {
            diagnostics.error(node.location, "'\(key)' of \(subject) must be an integer, found \(node.kindDescription)")
            return nil
        }
        guard let value = scalar.intValue else {
            diagnostics.error(node.location, "'\(key)' of \(subject) is out of range")
            return nil
        }
        guard value >= minimum else {
            diagnostics.error(node.location, "'\(key)' of \(subject) must be at least \(minimum), found \(value)")
            return nil
        }
        return Located(value, at: node.location)
    }

    func bool(_ key: String, diagnostics: inout Diagnostics) -> Located<Bool>? {
        guard let entry = entries[key] else { return nil }
        let node = entry.value
        guard let value = node.scalar?.boolValue else {
            diagnostics.error(node.location, "'\(key)' of \(subject) must be true or false, found \(node.kindDescription)")
            return nil
        }
        return Located(value, at: node.location)
    }

    /// A list of strings; a single string is accepted as a list of one (`api: openai-chat`).
    func stringList(_ key: String, diagnostics: inout Diagnostics) -> [Located<String>]? {
        guard let entry = entries[key] else { return nil }
        let node = entry.value
        let what = "'\(key)' of \(subject)"
        switch node.content {
        case .scalar(let scalar) where scalar.kind == .string:
            return Self.string(node, what: what, diagnostics: &diagnostics).map { [$0] }
        case .sequence(let items):
            return items.compactMap { Self.string($0, what: "an item of \(what)", diagnostics: &diagnostics) }
        default:
            diagnostics.error(node.location, "\(what) must be a list of strings, found \(node.kindDescription)")
            return nil
        }
    }
}
