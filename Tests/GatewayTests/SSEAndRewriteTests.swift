@testable import Gateway
import Testing

@Suite struct SSEEventFramerTests {
    func frame(_ pieces: [String]) -> (events: [String], rest: String) {
        var framer = SSEEventFramer()
        var events: [String] = []
        for piece in pieces {
            Array(piece.utf8).withUnsafeBytes { bytes in
                framer.append(bytes) { events.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        return (events, String(decoding: framer.takeRemainder(), as: UTF8.self))
    }

    @Test func splitsWholeEvents() {
        let r = frame(["data: 1\n\ndata: 2\n\n"])
        #expect(r.events == ["data: 1\n\n", "data: 2\n\n"])
        #expect(r.rest == "")
    }

    @Test func joinsEventsSplitAcrossReads() {
        let r = frame(["data: {\"a\":", "1}\n", "\nevent: x\ndata: 2\n", "\ndata: 3"])
        #expect(r.events == ["data: {\"a\":1}\n\n", "event: x\ndata: 2\n\n"])
        #expect(r.rest == "data: 3")
    }

    @Test func handlesCRLFLineEnds() {
        let r = frame(["data: 1\r\n\r\ndata: 2\r\n", "\r\n"])
        #expect(r.events == ["data: 1\r\n\r\n", "data: 2\r\n\r\n"])
    }

    @Test func everyByteBoundaryGivesTheSameEvents() {
        let stream = "data: {\"model\":\"x\"}\n\n: keep-alive\n\ndata: [DONE]\n\n"
        let whole = frame([stream]).events
        for cut in 1..<stream.utf8.count {
            let bytes = Array(stream.utf8)
            let a = String(decoding: bytes[..<cut], as: UTF8.self), b = String(decoding: bytes[cut...], as: UTF8.self)
            #expect(frame([a, b]).events == whole)
        }
    }
}

@Suite struct ModelFieldRewriterTests {
    func rewrite(_ text: String, upstream: String = "gpt-4o-2024-08-06", public p: String = "gpt-4o") -> String {
        String(decoding: rewriteEvent(Array(text.utf8), upstream: upstream, publicID: p), as: UTF8.self)
    }

    @Test func rewritesCompactAndSpacedForms() {
        #expect(rewrite(#"data: {"id":"x","model":"gpt-4o-2024-08-06","choices":[]}"#) == #"data: {"id":"x","model":"gpt-4o","choices":[]}"#)
        #expect(rewrite(#"data: {"model" : "gpt-4o-2024-08-06"}"#) == #"data: {"model" : "gpt-4o"}"#)
    }

    @Test func rewritesEveryOccurrenceAndSkipsKeysThatAreNotMembers() {
        let text = #"data: {"model":"gpt-4o-2024-08-06","x":["model"],"y":{"model":"gpt-4o-2024-08-06"},"model""#
        #expect(rewrite(text) == #"data: {"model":"gpt-4o","x":["model"],"y":{"model":"gpt-4o"},"model""#)
        #expect(rewrite(#""model":"gpt-4o-2024-08-06""#) == #""model":"gpt-4o""#)
        #expect(rewrite(#""model":"gpt-4o-2024-08-0"#) == #""model":"gpt-4o-2024-08-0"#)  // cut short: unchanged
    }

    @Test func leavesOtherValuesAlone() {
        let text = #"data: {"model":"gpt-4o-2024-08-06-mini","content":"model gpt-4o-2024-08-06"}"#
        #expect(rewrite(text) == text)
    }

    @Test func keysInsideStringsAreNotKeys() {
        // A key named `x\"model` once had its value rewritten: its name only ends in `model"`.
        let escapedName = #"data: {"x\"model":"gpt-4o-2024-08-06","model":"gpt-4o-2024-08-06"}"#
        #expect(rewrite(escapedName) == #"data: {"x\"model":"gpt-4o-2024-08-06","model":"gpt-4o"}"#)
        let inContent = #"data: {"content":"\"model\":\"gpt-4o-2024-08-06\" and \\","model":"gpt-4o-2024-08-06"}"#
        #expect(rewrite(inContent) == #"data: {"content":"\"model\":\"gpt-4o-2024-08-06\" and \\","model":"gpt-4o"}"#)
        // Each line is read on its own: a stray quote on a comment line does not hide the data line's key.
        #expect(rewrite(": \"\ndata: {\"model\":\"gpt-4o-2024-08-06\"}\n\n") == ": \"\ndata: {\"model\":\"gpt-4o\"}\n\n")
    }

    @Test func everyModelValueIsRewrittenHoweverMany() {
        // More than the four values the scan has room for on its first call.
        for count in [1, 4, 5, 9] {
            func event(_ id: String) -> String {
                let members = (0..<count).map { #"{"model":"\#(id)","i":\#($0)}"# }.joined(separator: ",")
                return #"data: {"list":[\#(members)],"model": "\#(id)"}"#
            }
            #expect(rewrite(event("gpt-4o-2024-08-06")) == event("gpt-4o"), "\(count) values")
        }
    }
}

@Suite struct ModelPatternTests {
    @Test func wildcardMatching() {
        #expect(ModelCatalog.matches(pattern: "*", "anything"))
        #expect(ModelCatalog.matches(pattern: "mock-*", "mock-gpt"))
        #expect(!ModelCatalog.matches(pattern: "mock-*", "gpt-mock"))
        #expect(ModelCatalog.matches(pattern: "*-mini", "gpt-4o-mini"))
        #expect(ModelCatalog.matches(pattern: "gpt-*-mini", "gpt-4o-mini"))
        #expect(!ModelCatalog.matches(pattern: "gpt-4o", "gpt-4o-mini"))
        #expect(ModelCatalog.matches(pattern: "a*b*c", "aXbYc"))
        #expect(!ModelCatalog.matches(pattern: "a*b*c", "aXbY"))
    }
}

@Suite struct ByteSearchTests {
    @Test func findsSingleBytes() {
        let bytes = Array("a\nb\n".utf8)
        bytes.withUnsafeBytes { raw in
            #expect(ByteSearch.firstIndex(of: 0x0A, in: raw) == 1)
            #expect(ByteSearch.firstIndex(of: 0x0A, in: raw, from: 2) == 3)
            #expect(ByteSearch.firstIndex(of: 0x0A, in: raw, from: 4) == nil)
            #expect(ByteSearch.firstIndex(of: 0x0A, in: raw, from: 9) == nil)
        }
    }
}

@Suite struct SSEEventLimitTests {
    @Test func anEventLongerThanTheLimitEndsFramingAndFreesItsBytes() {
        var framer = SSEEventFramer()
        var events: [String] = []
        let first = Array("data: 1\n\n".utf8)
        first.withUnsafeBytes { framer.append($0) { events.append(String(decoding: $0, as: UTF8.self)) } }
        let piece = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        var pieces = 0
        while !framer.overflowed && pieces < 100 {
            piece.withUnsafeBytes { framer.append($0) { events.append(String(decoding: $0, as: UTF8.self)) } }
            pieces += 1
        }
        #expect(events == ["data: 1\n\n"])
        #expect(framer.overflowed)
        #expect(pieces == SSEEventFramer.maxEventBytes / piece.count + 1)  // the first piece past the limit
        #expect(framer.takeRemainder().isEmpty)
        // Nothing more is framed after that, even a complete event.
        first.withUnsafeBytes { framer.append($0) { events.append(String(decoding: $0, as: UTF8.self)) } }
        #expect(events.count == 1)
    }
}
