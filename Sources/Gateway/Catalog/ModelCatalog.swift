import RouteConfig
import SwitchyardJSON

/// Lookup structures built once at start-up from the compiled tables: every per-request lookup
/// is one hash probe. A class: each request's stages hold it, and a struct of this size was
/// copied field by field (retains and releases) into every one of them.
public final class ModelCatalog: Sendable {
    public let config: CompiledConfig
    /// Public id or alias → index into `config.models`.
    private let modelIndex: [String: Int]
    private let plansByID: [String: PlanEntry]
    private let routes: [RouteKey: RouteTarget]
    /// Paths of the exact routes, for telling a wrong method from an unknown path.
    private let knownPaths: Set<String>
    /// Routes ending in a parameter, as (method, the path before it, target); matched by prefix
    /// after the exact table misses. Few (one per config in practice), so a list.
    private let prefixRoutes: [(method: String, prefix: String, target: RouteTarget)]
    /// Model index → its upstream id as a JSON string literal, spliced into every request body
    /// whose `model` differs (quoted once here rather than per request).
    let quotedUpstreamIDs: [[UInt8]]

    public struct PlanEntry: Sendable {
        public let plan: Plan
        /// Indices of the models the plan's patterns allow, in config order.
        public let allowedModels: [Int]
        let allowed: Set<Int>
        public func allows(_ model: Int) -> Bool { allowed.contains(model) }
    }

    struct RouteKey: Hashable, Sendable {
        var method: String
        var path: String
    }

    public init(config: CompiledConfig) {
        self.config = config
        var index: [String: Int] = [:]
        for (i, model) in config.models.enumerated() {
            index[model.id] = i
            for alias in model.aliases { index[alias] = i }
        }
        modelIndex = index
        var plans: [String: PlanEntry] = [:]
        for plan in config.plans {
            let allowed = config.models.indices.filter { i in
                plan.models.contains { ModelCatalog.matches(pattern: $0, config.models[i].id) }
            }
            plans[plan.id] = PlanEntry(plan: plan, allowedModels: allowed, allowed: Set(allowed))
        }
        plansByID = plans
        var table: [RouteKey: RouteTarget] = [:]
        var prefixed: [(method: String, prefix: String, target: RouteTarget)] = []
        for route in config.routes {
            if route.path.hasSuffix("/" + RouteTarget.modelParameter) {
                prefixed.append((route.method, String(route.path.dropLast(RouteTarget.modelParameter.count)), route.target))
            } else {
                table[RouteKey(method: route.method, path: route.path)] = route.target
            }
        }
        routes = table
        prefixRoutes = prefixed
        knownPaths = Set(table.keys.map(\.path))
        quotedUpstreamIDs = config.models.map { model in
            var quoted: [UInt8] = []
            JSONTopLevelScanner.appendQuoted(model.upstreamID, to: &quoted)
            return quoted
        }
    }

    public enum RouteLookup: Sendable, Equatable {
        /// `parameter`: the rest of the path after a parameter route's prefix, still
        /// percent-encoded; nil for exact routes.
        case found(RouteTarget, parameter: Substring? = nil)
        case wrongMethod
        case notFound
    }

    /// Dispatch: the route for a method and path (query string already removed).
    public func route(method: String, path: String) -> RouteLookup {
        if let target = routes[RouteKey(method: method, path: path)] { return .found(target) }
        // HEAD is answered like GET without a body, as HTTP requires.
        if method == "HEAD", let target = routes[RouteKey(method: "GET", path: path)] { return .found(target) }
        if knownPaths.contains(path) { return .wrongMethod }
        let candidates = prefixRoutes(matching: path)
        if let route = candidates.first(where: { $0.method == method || (method == "HEAD" && $0.method == "GET") }) {
            return .found(route.target, parameter: path.dropFirst(route.prefix.count))
        }
        return candidates.isEmpty ? .notFound : .wrongMethod
    }

    /// The parameter routes whose prefix `path` extends (with a non-empty parameter).
    private func prefixRoutes(matching path: String) -> [(method: String, prefix: String, target: RouteTarget)] {
        prefixRoutes.filter { path.utf8.count > $0.prefix.utf8.count && path.hasPrefix($0.prefix) }
    }

    /// The methods `path` is routed for (HEAD wherever GET is), sorted: a 405's `Allow` header.
    /// Only on that error path, so a scan of the few routes.
    public func allowedMethods(path: String) -> [String] {
        var methods = Set(routes.keys.filter { $0.path == path }.map(\.method))
        methods.formUnion(prefixRoutes(matching: path).map(\.method))
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }

    public func model(named name: String) -> Int? { modelIndex[name] }

    public func plan(_ id: String) -> PlanEntry? { plansByID[id] }

    /// `*` matches any run of characters (including none); everything else is literal.
    public static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; pi += 1; mark = ti; continue }
            if pi < p.count && p[pi] == t[ti] { pi += 1; ti += 1; continue }
            if star >= 0 { pi = star + 1; mark += 1; ti = mark; continue }
            return false
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
