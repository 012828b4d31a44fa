// Reads the `providers` section.

import RouteConfig

struct ProviderDraft: Sendable {
    var id: Located<String>
    var apis: [Located<WireAPI>]
    var baseURL: String
    var auth: ProviderAuth
    var headers: [HeaderField]
    var connectTimeoutMs: Int
    var readTimeoutMs: Int
}

enum ProviderReader {
    static let keys = ["api", "base_url", "auth", "headers", "connect_timeout_ms", "read_timeout_ms"]
    static let maxTimeoutMs = 86_400_000
    static let required = ["api", "base_url", "auth"]
    static let authKeys = ["bearer_env", "header", "query", "env"]
    /// Headers the gateway itself sets per request or connection.
    static let reservedHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection",
                                               "keep-alive", "upgrade", "te", "trailer"]

    static func read(_ section: ParsedConfig.Section, diagnostics: inout Diagnostics) -> [ProviderDraft] {
        SectionEntries.of(section, itemName: "provider", diagnostics: &diagnostics).map { entry in
            read(entry, diagnostics: &diagnostics)
        }
    }

    /// Always returns a draft, so that models naming this provider are not also reported as
    /// dangling when only a field of the provider is wrong.
    static func read(_ entry: ConfigEntry, diagnostics: inout Diagnostics) -> ProviderDraft {
        let id = Located(entry.key, at: entry.keyLocation)
        let subject = "provider '\(entry.key)'"
        if !NameRules.isSimpleID(entry.key) {
            diagnostics.error(entry.keyLocation, "provider id '\(entry.key)' must be lowercase letters, digits, '-', '_' or '.' (it appears in URLs)")
        }
        var draft = ProviderDraft(id: id, apis: [], baseURL: "", auth: .none, headers: [],
                                  connectTimeoutMs: 10_000, readTimeoutMs: 600_000)
        guard let reader = MappingReader(entry.value, subject: subject, owner: entry.keyLocation, keys: keys,
                                         required: required, diagnostics: &diagnostics) else { return draft }

        if let apiNames = reader.stringList("api", diagnostics: &diagnostics) {
            draft.apis = apis(apiNames, subject: subject, diagnostics: &diagnostics)
            if apiNames.isEmpty, let node = reader.entry("api")?.value {
                diagnostics.error(node.location, "\(subject) has an empty 'api' list: it could serve nothing")
            }
        }
        if let url = reader.string("base_url", diagnostics: &diagnostics) {
            switch BaseURLCheck.normalize(url.value) {
            case .success(let normalized): draft.baseURL = normalized
            case .failure(let problem): diagnostics.error(url.location, "base_url '\(url.value)' of \(subject) \(problem.message)")
            }
        }
        if let node = reader.entry("auth")?.value {
            draft.auth = auth(node, subject: subject, diagnostics: &diagnostics) ?? .none
        }
        if let node = reader.entry("headers")?.value {
            draft.headers = headers(node, subject: subject, auth: draft.auth, diagnostics: &diagnostics)
        }
        // At most a day: beyond that a timeout means "never", and huge values overflowed the
        // client's arithmetic at the first request.
        for (key, isRead) in [("connect_timeout_ms", false), ("read_timeout_ms", true)] {
            guard let v = reader.int(key, minimum: 1, diagnostics: &diagnostics) else { continue }
            guard v.value <= Self.maxTimeoutMs else {
                diagnostics.error(v.location, "'\(key)' of \(subject) must be at most \(Self.maxTimeoutMs) (24 hours)")
                continue
            }
            if isRead { draft.readTimeoutMs = v.value } else { draft.connectTimeoutMs = v.value }
        }
        return draft
    }

    private static func apis(_ names: [Located<String>], subject: String, diagnostics: inout Diagnostics) -> [Located<WireAPI>] {
        var result: [Located<WireAPI>] = []
        for name in names {
            guard let api = WireAPI(rawValue: name.value) else {
                let known = WireAPI.allCases.map(\.rawValue)
                diagnostics.error(name.location, "unknown api '\(name.value)' in \(subject)\(KeySuggestion.hint(for: name.value, among: known)); known apis: \(known.joined(separator: ", "))")
                continue
            }
            if result.contains(where: { $0.value == api }) {
                diagnostics.warning(name.location, "api '\(name.value)' is listed twice in \(subject)")
                continue
            }
            result.append(Located(api, at: name.location))
        }
        return result
    }

    /// `none`, `{bearer_env: VAR}`, `{header: NAME, env: VAR}` or `{query: PARAM, env: VAR}`.
    private static func auth(_ node: ConfigNode, subject: String, diagnostics: inout Diagnostics) -> ProviderAuth? {
        let forms = "'none', {bearer_env: VAR}, {header: NAME, env: VAR} or {query: PARAM, env: VAR}"
        if let scalar = node.scalar, scalar.kind == .string {
            if scalar.text == "none" { return ProviderAuth.none }
            diagnostics.error(node.location, "auth of \(subject) must be \(forms), found '\(scalar.text)'")
            return nil
        }
        guard case .mapping = node.content else {
            diagnostics.error(node.location, "auth of \(subject) must be \(forms), found \(node.kindDescription)")
            return nil
        }
        let what = "auth of \(subject)"
        guard let reader = MappingReader(node, subject: what, owner: node.location, keys: authKeys,
                                         diagnostics: &diagnostics) else { return nil }
        func env(_ key: String) -> String? {
            guard let name = reader.string(key, diagnostics: &diagnostics) else { return nil }
            guard NameRules.isEnvironmentVariable(name.value) else {
                diagnostics.error(name.location, "'\(name.value)' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
                return nil
            }
            return name.value
        }
        if reader.contains("bearer_env") {
            for other in ["header", "query", "env"] where reader.contains(other) {
                diagnostics.error(reader.entry(other)!.keyLocation, "'\(other)' cannot be combined with 'bearer_env' in \(what)")
            }
            return env("bearer_env").map { .bearer(env: $0) }
        }
        let header = reader.contains("header"), query = reader.contains("query")
        if header && query {
            diagnostics.error(reader.entry("query")!.keyLocation, "\(what) has both 'header' and 'query'; choose one")
            return nil
        }
        guard header || query else {
            if !reader.hasUnknownKeys { diagnostics.error(node.location, "\(what) must be \(forms)") }
            return nil
        }
        if !reader.contains("env") {
            diagnostics.error(node.location, "\(what) is missing required key 'env' (the environment variable holding the secret)")
        }
        if header {
            guard let name = reader.string("header", diagnostics: &diagnostics) else { return nil }
            guard NameRules.isHeaderName(name.value) else {
                diagnostics.error(name.location, "'\(name.value)' is not a valid header name")
                return nil
            }
            return env("env").map { .header(name: name.value, env: $0) }
        }
        guard let param = reader.string("query", diagnostics: &diagnostics) else { return nil }
        guard NameRules.isQueryParameter(param.value) else {
            diagnostics.error(param.location, "'\(param.value)' is not a valid query parameter name")
            return nil
        }
        return env("env").map { .query(param: param.value, env: $0) }
    }

    /// Sorted by lowercased name so that key order in the file does not change the output.
    private static func headers(_ node: ConfigNode, subject: String, auth: ProviderAuth,
                                diagnostics: inout Diagnostics) -> [HeaderField] {
        guard case .mapping(let entries) = node.content else {
            if !node.isNull {
                diagnostics.error(node.location, "headers of \(subject) must be a mapping of header name to value, found \(node.kindDescription)")
            }
            return []
        }
        var fields: [HeaderField] = []
        var seen: [String: SourceLocation] = [:]
        for entry in entries {
            let lowered = entry.key.lowercased()
            guard NameRules.isHeaderName(entry.key) else {
                diagnostics.error(entry.keyLocation, "'\(entry.key)' is not a valid header name")
                continue
            }
            if reservedHeaders.contains(lowered) {
                diagnostics.error(entry.keyLocation, "header '\(entry.key)' is set by the gateway and cannot be configured")
                continue
            }
            if case .header(let authHeader, _) = auth, authHeader.lowercased() == lowered {
                diagnostics.error(entry.keyLocation, "header '\(entry.key)' is already set by the auth of \(subject)")
                continue
            }
            if case .bearer = auth, lowered == "authorization" {
                diagnostics.error(entry.keyLocation, "header '\(entry.key)' is already set by the auth of \(subject)")
                continue
            }
            if lowered == "authorization" || lowered == "proxy-authorization" {
                // A literal value here would be a credential compiled into the binary.
                diagnostics.error(entry.keyLocation, "header '\(entry.key)' carries a credential and cannot be written in the config; use `auth` (bearer or header), which reads the secret from an environment variable at start-up")
                continue
            }
            if let first = seen[lowered] {
                diagnostics.error(entry.keyLocation, "header '\(entry.key)' is already set at line \(first.line) (header names are case-insensitive)")
                continue
            }
            seen[lowered] = entry.keyLocation
            // Any scalar is taken as written: `anthropic-version: 2023-06-01` is text, not a date.
            guard let scalar = entry.value.scalar, scalar.kind != .null else {
                diagnostics.error(entry.value.location, "value of header '\(entry.key)' must be text, found \(entry.value.kindDescription)")
                continue
            }
            guard NameRules.isHeaderValue(scalar.text) else {
                diagnostics.error(entry.value.location, "value of header '\(entry.key)' must not contain line breaks or control characters")
                continue
            }
            fields.append(HeaderField(name: entry.key, value: scalar.text))
        }
        return fields.sorted { ($0.name.lowercased(), $0.name) < ($1.name.lowercased(), $1.name) }
    }
}
