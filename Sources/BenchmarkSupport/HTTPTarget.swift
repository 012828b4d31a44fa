/// `http://host[:port]/path`: where the benchmark builds' NIO clients connect and what they ask
/// for (plain HTTP only).
public struct HTTPTarget: Sendable {
    public var host: String
    public var port: Int
    public var path: String
    /// `host:port`, the `Host` header and the connection pool's key.
    public var authority: String

    public init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) {
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = 80
        }
        self.authority = "\(host):\(port)"
    }
}
