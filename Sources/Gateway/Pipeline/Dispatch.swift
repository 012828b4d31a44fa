import NIOHTTP1
import RouteConfig

/// Stage 1: method and path → what serves them, through the compiled route table.
struct Dispatch {
    let catalog: ModelCatalog

    struct Route {
        var target: RouteTarget
        /// The path parameter of a `model` route, as sent (still percent-encoded: it is decoded
        /// by the stage that reads it, after the key is checked).
        var parameter: Substring?
    }

    func callAsFunction(_ head: HTTPRequestHead) throws(GatewayError) -> Route {
        let uri = head.uri
        // Clients add query strings we do not route on (Claude Code sends `?beta=true`).
        // Searched as UTF-8 bytes: a `Character` search walks grapheme boundaries (7.6k
        // instructions for a 20-byte path).
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(uri[..<$0]) } ?? uri
        switch catalog.route(method: head.method.rawValue, path: path) {
        case .found(let target, let parameter): return Route(target: target, parameter: parameter)
        case .wrongMethod:
            // RFC 9110 §15.5.6: a 405 lists what the path does take.
            let allowed = catalog.allowedMethods(path: path)
            throw GatewayError(.methodNotAllowed, "Method \(head.method.rawValue) is not allowed on \(path); use \(allowed.joined(separator: " or ")).",
                               headers: [("allow", allowed.joined(separator: ", "))])
        case .notFound:
            throw GatewayError(.routeNotFound, "No route for \(head.method.rawValue) \(path). Model endpoints live under /v1, e.g. POST /v1/chat/completions.")
        }
    }
}
