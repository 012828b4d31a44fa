import NIOHTTP1
import RouteConfig

/// Stage 1: method and path → what serves them, through the compiled route table.
struct Dispatch {
    let catalog: ModelCatalog

    struct Route {
        var target: RouteTarget
        /// The path parameter of a `model` route, percent-decoded.
        var parameter: String?
    }

    func callAsFunction(_ head: HTTPRequestHead) throws(GatewayError) -> Route {
        let uri = head.uri
        // Clients add query strings we do not route on (Claude Code sends `?beta=true`).
        // Searched as UTF-8 bytes: a `Character` search walks grapheme boundaries (7.6k
        // instructions for a 20-byte path).
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(uri[..<$0]) } ?? uri
        switch catalog.route(method: head.method.rawValue, path: path) {
        case .found(let target, nil): return Route(target: target)
        case .found(let target, let parameter?):
            // An id with a malformed escape can name no model.
            guard let decoded = Self.percentDecoded(parameter) else {
                throw GatewayError(.unknownModel, "The model '\(parameter)' does not exist. GET /v1/models lists the models your key can use.", param: "model")
            }
            return Route(target: target, parameter: decoded)
        case .wrongMethod:
            throw GatewayError(.methodNotAllowed, "Method \(head.method.rawValue) is not allowed on \(path).")
        case .notFound:
            throw GatewayError(.routeNotFound, "No route for \(head.method.rawValue) \(path). Model endpoints live under /v1, e.g. POST /v1/chat/completions.")
        }
    }

    /// `%XX` escapes decoded (clients escape `/` and other reserved characters in an id); nil for
    /// a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where b >= 0x30 && b <= 0x39: return b - 0x30
            case let b? where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case let b? where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
