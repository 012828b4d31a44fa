/// The `--listen` value: `HOST:PORT`, HOST a name, an IPv4 address or an IPv6 address in
/// brackets (`[::1]:8080`, as in URLs). An empty HOST is refused rather than guessed: binding
/// every interface should be asked for (`0.0.0.0:8080`), not be what a typo does.
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ListenAddressError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080; got '\(text)'")
        }
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), portText.count <= 5,
              let port = Int(portText), port <= 65_535 else {
            throw ListenAddressError("--listen: the port must be a number from 0 to 65535; got '\(text)'")
        }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else {
                throw ListenAddressError("--listen: brackets are for IPv6 addresses, e.g. [::1]:8080; got '\(text)'")
            }
        } else if host.contains(":") || host.contains("[") || host.contains("]") {
            throw ListenAddressError("--listen: write an IPv6 address in brackets, e.g. [::1]:8080; got '\(text)'")
        }
        guard !host.isEmpty else {
            throw ListenAddressError("--listen: give a host before the port: 127.0.0.1:\(port) for this machine only, "
                                     + "0.0.0.0:\(port) for every IPv4 interface, [::]:\(port) for every interface")
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets.
    public static func display(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

public struct ListenAddressError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
