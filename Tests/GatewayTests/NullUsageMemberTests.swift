import Testing
@testable import Gateway

/// `Exchange.nullUsageMember`: the `,"usage":null` a provider puts in every chunk once the
/// gateway asks for usage, cut for clients that did not ask — and nothing else.
@Suite struct NullUsageMemberTests {
    private func cut(_ event: String) -> String? {
        let bytes = Array(event.utf8)
        return bytes.withUnsafeBytes { raw in
            Exchange.nullUsageMember(in: raw).map { String(decoding: bytes[..<$0.lowerBound] + bytes[$0.upperBound...], as: UTF8.self) }
        }
    }

    @Test func removesTheLastMemberOfTheTopLevelObject() {
        #expect(cut("data: {\"id\":\"c\",\"choices\":[],\"usage\":null}\n\n") == "data: {\"id\":\"c\",\"choices\":[]}\n\n")
        #expect(cut("data: {\"a\":1,\"usage\":null}\r\n\r\n") == "data: {\"a\":1}\r\n\r\n")
        #expect(cut("data: {\"a\":1,\"usage\":null}") == "data: {\"a\":1}")  // the unterminated last event
    }

    @Test func leavesEveryOtherLayoutAlone() {
        for event in [
            "data: {\"usage\":null,\"a\":1}\n\n",                 // not the last member
            "data: {\"a\":\"x,\\\"usage\\\":null}\"}\n\n",          // inside a string
            "data: {\"a\":{\"b\":1,\"usage\":null}}\n\n",          // nested
            "data: {\"a\":1, \"usage\": null}\n\n",               // spaced
            "data: {\"a\":1,\"usage\":{\"total_tokens\":3}}\n\n",  // a real usage object
            ": keep-alive\n\n", "data: [DONE]\n\n", "",
        ] {
            #expect(cut(event) == nil, "\(event)")
        }
    }
}
