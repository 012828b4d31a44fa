// The `providers`, `models` and `plans` sections are mappings from id to settings; this walks one
// of them.

enum SectionEntries {
    /// The (id, settings) entries of a section, or none (with an error) if it is not a mapping.
    /// An empty section (`plans:` with nothing under it) is allowed.
    static func of(_ section: ParsedConfig.Section, itemName: String, diagnostics: inout Diagnostics) -> [ConfigEntry] {
        switch section.value.content {
        case .mapping(let entries):
            return entries
        case .scalar(let scalar) where scalar.kind == .null:
            return []
        default:
            diagnostics.error(section.value.location,
                              "'\(section.name.rawValue)' must be a mapping from \(itemName) id to its settings, found \(section.value.kindDescription)")
            return []
        }
    }
}
