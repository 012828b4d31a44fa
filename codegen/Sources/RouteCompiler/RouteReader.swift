// Reads the `routes` section: a list, kept in file order.

import RouteConfig

struct RouteDraft: Sendable {
    var location: SourceLocation
    var method: Located<String>
    var path: Located<String>
    var target: Located<RouteTarget>
}

enum RouteReader {
    static let keys = ["method", "path", "serve"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    static func read(_ section: ParsedConfig.Section, diagnostics: inout Diagnostics) -> [RouteDraft] {
        let items: [ConfigNode]
        switch section.value.content {
        case .sequence(let list): items = list
        case .scalar(let s) where s.kind == .null: items = []
        default:
            diagnostics.error(section.value.location,
                              "'routes' must be a list of {method, path, serve}, found \(section.value.kindDescription)")
            return []
        }
        return items.compactMap { read($0, diagnostics: &diagnostics) }
    }

    /// Nil when any field is missing or invalid: a half-read route would only cause follow-on errors.
    static func read(_ node: ConfigNode, diagnostics: inout Diagnostics) -> RouteDraft? {
        guard let reader = MappingReader(node, subject: "route", owner: node.location, keys: keys, required: keys,
                                         diagnostics: &diagnostics) else { return nil }
        var valid = true
        let method = reader.string("method", diagnostics: &diagnostics)
        if let method, !methods.contains(method.value) {
            let hint = methods.contains(method.value.uppercased()) ? " (did you mean '\(method.value.uppercased())'?)" : ""
            diagnostics.error(method.location, "invalid method '\(method.value)'\(hint); methods: \(methods.joined(separator: ", "))")
            valid = false
        }
        let path = reader.string("path", diagnostics: &diagnostics)
        if let path, let problem = pathProblem(path.value) {
            diagnostics.error(path.location, "route path '\(path.value)' \(problem)")
            valid = false
        }
        var target: Located<RouteTarget>?
        if let serve = reader.string("serve", diagnostics: &diagnostics) {
            if let value = RouteTarget(rawValue: serve.value) {
                target = Located(value, at: serve.location)
            } else {
                let known = RouteTarget.allCases.map(\.rawValue)
                diagnostics.error(serve.location, "unknown route target '\(serve.value)'\(KeySuggestion.hint(for: serve.value, among: known)); targets: \(known.joined(separator: ", "))")
            }
        }
        if let path, let target, valid {
            let parameterized = path.value.hasSuffix("/" + RouteTarget.modelParameter)
            if target.value == .model && !parameterized {
                diagnostics.error(path.location, "a 'model' route's path must end in '/\(RouteTarget.modelParameter)', e.g. /v1/models/\(RouteTarget.modelParameter)")
                valid = false
            } else if target.value != .model && parameterized {
                diagnostics.error(path.location, "only 'model' routes take the '\(RouteTarget.modelParameter)' parameter; '\(target.value.rawValue)' routes match their path exactly")
                valid = false
            }
        }
        guard valid, let method, let path, let target else { return nil }
        if target.value.clientAPI == nil, method.value != "GET" {
            diagnostics.warning(method.location, "'\(target.value.rawValue)' answers GET requests; \(method.value) \(path.value) will not match them")
        }
        return RouteDraft(location: node.location, method: method, path: path, target: target)
    }

    /// A plain absolute path, matched exactly, or one ending in the `{model}` parameter (matched
    /// by its prefix: the rest of the request path is the model id).
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must start with '/'" }
        guard path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            return "must be ASCII without spaces or control characters"
        }
        if path.contains("?") || path.contains("#") { return "must not contain '?' or '#'" }
        if path.contains("//") { return "must not contain '//'" }
        let literal = path.hasSuffix("/" + RouteTarget.modelParameter) ? String(path.dropLast(RouteTarget.modelParameter.count)) : path
        if literal.contains("{") || literal.contains("}") {
            return "may have one parameter, '\(RouteTarget.modelParameter)', and only as its last segment"
        }
        return nil
    }
}
