// Stage 1 of 3: YAML text → sections with source positions.
//
// Uses Yams' node API (`compose`) rather than Codable so every value keeps its line and column.
// A file with a YAML syntax error contributes nothing, but the other files are still read so one
// run reports as much as possible.

import Yams

/// The top-level keys of a config file. Each may appear in one file only.
public enum ConfigSection: String, Sendable, CaseIterable, Hashable {
    case providers, models, plans, routes, server
}

/// The parse stage's output: each section's YAML, and what could not be read.
public struct ParsedConfig: Sendable {
    public struct Section: Sendable {
        public var name: ConfigSection
        /// Where the section's key is written.
        public var keyLocation: SourceLocation
        public var value: ConfigNode
    }

    public var sections: [ConfigSection: Section] = [:]
    /// Display paths of all files, sorted.
    public var files: [String] = []
    /// Files with YAML syntax errors. A section missing from the others may be in one of these, so
    /// the validator does not report references into a missing section as dangling.
    public var unreadableFiles: [String] = []

    public init() {}
}

public enum ConfigParser {
    public static func parse(_ sources: [ConfigSource], diagnostics: inout Diagnostics) -> ParsedConfig {
        var parsed = ParsedConfig()
        // Sorted so that "first" and "second" occurrence of a section do not depend on the order
        // files were listed in.
        let ordered = sources.sorted { $0.path < $1.path }
        parsed.files = ordered.map(\.path)
        if ordered.isEmpty { diagnostics.error(nil, "no config files (*.yaml, *.yml) given") }

        for source in ordered {
            let root: Node?
            do {
                root = try Yams.compose(yaml: source.text, .default, .default, .utf8)
            } catch {
                report(yamlError: error, in: source, diagnostics: &diagnostics)
                parsed.unreadableFiles.append(source.path)
                continue
            }
            guard let root else { continue }  // empty, or only comments
            var budget = Self.maxNodesPerFile
            let document = convert(root, file: source.path, budget: &budget, diagnostics: &diagnostics)
            guard case .mapping(let entries) = document.content else {
                if !document.isNull {
                    diagnostics.error(document.location,
                                      "a config file is a mapping of sections (\(sectionList)), found \(document.kindDescription)")
                }
                continue
            }
            for entry in entries {
                guard let section = ConfigSection(rawValue: entry.key) else {
                    diagnostics.error(entry.keyLocation,
                                      "unknown section '\(entry.key)'\(KeySuggestion.hint(for: entry.key, among: ConfigSection.allCases.map(\.rawValue))); sections are \(sectionList)")
                    continue
                }
                if let first = parsed.sections[section] {
                    diagnostics.error(entry.keyLocation,
                                      "section '\(section.rawValue)' is already defined in \(first.keyLocation.file) (line \(first.keyLocation.line)); a section may appear in one file only")
                    continue
                }
                parsed.sections[section] = .init(name: section, keyLocation: entry.keyLocation, value: entry.value)
            }
        }
        return parsed
    }

    static var sectionList: String { ConfigSection.allCases.map(\.rawValue).joined(separator: ", ") }

    // MARK: Yams → ConfigNode

    /// Values one file may expand to. YAML aliases repeat their anchor's whole subtree, so a few
    /// hundred bytes of nested aliases can expand exponentially; a real config has a few thousand.
    static let maxNodesPerFile = 1_000_000

    static func convert(_ node: Node, file: String, budget: inout Int, diagnostics: inout Diagnostics) -> ConfigNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        budget -= 1
        guard budget >= 0 else {
            if budget == -1 {
                diagnostics.error(location, "this file expands to more than \(maxNodesPerFile) values (through YAML aliases?); the config is refused")
            }
            return ConfigNode(.scalar(ConfigScalar(text: "", kind: .null)), at: location)
        }
        switch node {
        case .scalar(let scalar):
            return ConfigNode(.scalar(configScalar(node, text: scalar.string)), at: location)
        case .alias:
            // `compose` resolves aliases to their anchored node, so this is not reached; treat a
            // dangling one as null rather than trap.
            return ConfigNode(.scalar(ConfigScalar(text: "", kind: .null)), at: location)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for item in sequence {
                items.append(convert(item, file: file, budget: &budget, diagnostics: &diagnostics))
                if budget < 0 { break }
            }
            return ConfigNode(.sequence(items), at: location)
        case .mapping(let mapping):
            var entries: [ConfigEntry] = []
            var seen: [[UInt8]: SourceLocation] = [:]
            for (key, value) in mapping {
                let keyLocation = SourceLocation(file: file, line: key.mark?.line ?? location.line,
                                                 column: key.mark?.column ?? location.column)
                guard case .scalar(let keyScalar) = key else {
                    diagnostics.error(keyLocation, "a key must be plain text, found a \(key.isMappingNode ? "mapping" : "list")")
                    continue
                }
                // YAML tells `1:` from `"1":` (and tagged keys from plain ones); this config reads
                // keys as text, so they would collide: a silent override, or a crash later.
                if let first = seen[Array(keyScalar.string.utf8)] {
                    diagnostics.error(keyLocation, "duplicate key '\(keyScalar.string)' (first at line \(first.line), column \(first.column)); each key may appear once")
                    continue
                }
                seen[Array(keyScalar.string.utf8)] = keyLocation
                entries.append(ConfigEntry(key: keyScalar.string, keyLocation: keyLocation,
                                           value: convert(value, file: file, budget: &budget, diagnostics: &diagnostics)))
                if budget < 0 { break }
            }
            return ConfigNode(.mapping(entries), at: location)
        }
    }

    private static func configScalar(_ node: Node, text: String) -> ConfigScalar {
        switch node.tag.rawValue {
        case Tag.Name.str.rawValue: return ConfigScalar(text: text, kind: .string)
        case Tag.Name.int.rawValue: return ConfigScalar(text: text, kind: .int, intValue: node.int)
        case Tag.Name.float.rawValue: return ConfigScalar(text: text, kind: .float)
        case Tag.Name.bool.rawValue: return ConfigScalar(text: text, kind: .bool, boolValue: node.bool)
        case Tag.Name.null.rawValue: return ConfigScalar(text: text, kind: .null)
        case Tag.Name.timestamp.rawValue: return ConfigScalar(text: text, kind: .timestamp)
        default: return ConfigScalar(text: text, kind: .other)
        }
    }

    // MARK: YAML errors

    private static func report(yamlError error: any Error, in source: ConfigSource, diagnostics: inout Diagnostics) {
        let file = source.path
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        guard let yamlError = error as? YamlError else {
            diagnostics.error(.start(of: file), "cannot parse YAML: \(error)")
            return
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            diagnostics.error(at(mark), message)
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams reports the first occurrence; point at the repeat, which is the line to fix.
            let key = duplicates.first ?? "?"
            let repeatAt = repeatedKeyLocation(key: key, firstLine: context.mark.line, column: context.mark.column,
                                               in: source.text, file: file)
            let where_ = repeatAt == nil ? "it appears again later in this mapping" : "first defined at line \(context.mark.line)"
            diagnostics.error(repeatAt ?? at(context.mark),
                              "duplicate key '\(key)' (\(where_)); keys must be unique")
        case let .reader(problem, _, _, _):
            diagnostics.error(.start(of: file), "cannot read YAML: \(problem)")
        default:
            diagnostics.error(.start(of: file), "cannot parse YAML: \(yamlError)")
        }
    }

    /// Finds the next line that has `key:` at the same column as the first occurrence — the usual
    /// shape of a repeated key in a block mapping. Nil when not found (e.g. flow style).
    static func repeatedKeyLocation(key: String, firstLine: Int, column: Int, in text: String,
                                    file: String) -> SourceLocation? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard firstLine >= 1, firstLine < lines.count else { return nil }
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        for index in firstLine..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let start = column - 1
            guard start >= 0, start < scalars.count else { continue }
            let rest = String(String.UnicodeScalarView(scalars[start...]))
            for spelling in spellings where rest.hasPrefix(spelling) {
                let after = rest.dropFirst(spelling.count).drop { $0 == " " || $0 == "\t" }
                if after.hasPrefix(":") { return SourceLocation(file: file, line: index + 1, column: column) }
            }
        }
        return nil
    }
}

extension Node {
    fileprivate var isMappingNode: Bool {
        if case .mapping = self { return true }
        return false
    }
}
