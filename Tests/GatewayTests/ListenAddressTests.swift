import Gateway
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("localhost:0", "localhost", 0),
        ("0.0.0.0:65535", "0.0.0.0", 65_535),
        ("[::1]:8080", "::1", 8080),
        ("[::]:443", "::", 443),
        ("[fe80::1%eth0]:9000", "fe80::1%eth0", 9000),
    ])
    func accepts(_ text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address == ListenAddress(host: host, port: port))
    }

    @Test(arguments: [
        ("8080", "HOST:PORT"),
        (":8080", "give a host before the port"),
        ("127.0.0.1:", "the port must be a number"),
        ("127.0.0.1:http", "the port must be a number"),
        ("127.0.0.1:65536", "the port must be a number"),
        ("127.0.0.1:-1", "the port must be a number"),
        ("127.0.0.1:+80", "the port must be a number"),
        ("::1:8080", "in brackets"),
        ("[127.0.0.1]:8080", "brackets are for IPv6"),
        ("[]:8080", "brackets are for IPv6"),
        ("[::1:8080", "in brackets"),
    ])
    func refuses(_ text: String, saying: String) {
        #expect {
            try ListenAddress(parsing: text)
        } throws: { error in
            "\(error)".contains(saying)
        }
    }

    @Test func displaysIPv6InBrackets() {
        #expect(ListenAddress.display(host: "::1", port: 80) == "[::1]:80")
        #expect(ListenAddress.display(host: "127.0.0.1", port: 80) == "127.0.0.1:80")
    }
}
