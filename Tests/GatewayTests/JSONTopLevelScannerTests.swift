import SwitchyardJSON
import Testing

@Suite struct JSONTopLevelScannerTests {
    func scan(_ text: String, _ keys: [String]) throws -> [JSONMemberSpan?] {
        try JSONTopLevelScanner.scanObject(Array(text.utf8), keys: keys)
    }

    func value(_ text: String, _ span: JSONMemberSpan?) -> String {
        let bytes = Array(text.utf8)
        return String(decoding: bytes[span!.value], as: UTF8.self)
    }

    @Test func findsTopLevelMembersOnly() throws {
        let text = #"{"messages":[{"model":"inner"}],"model" : "gpt-4o","stream":true,"n":-1.5e3}"#
        let spans = try scan(text, ["model", "stream", "n", "absent"])
        #expect(value(text, spans[0]) == #""gpt-4o""#)
        #expect(spans[0]?.kind == .string)
        #expect(spans[1]?.kind == .bool)
        #expect(value(text, spans[2]) == "-1.5e3")
        #expect(spans[3] == nil)
    }

    @Test func forEachMemberVisitsTopLevelMembersInOrderWithRawNames() throws {
        let text = #"{ "a" : 1, "b\"q":{"a":2}, "":[3], "a":"x" }"#
        let bytes = Array(text.utf8)
        var seen: [(String, String, JSONValueKind)] = []
        try bytes.withUnsafeBytes { buffer in
            try JSONTopLevelScanner.forEachMember(buffer) { name, span in
                seen.append((String(decoding: name, as: UTF8.self), String(decoding: bytes[span.value], as: UTF8.self), span.kind))
            }
        }
        // Nested members are not visited; names keep their escapes; repeated names are all seen.
        #expect(seen.map(\.0) == ["a", #"b\"q"#, "", "a"])
        #expect(seen.map(\.1) == ["1", #"{"a":2}"#, "[3]", #""x""#])
        #expect(seen.map(\.2) == [.number, .object, .array, .string])
        #expect(try scan(text, ["a"])[0].map { value(text, $0) } == #""x""#)  // the last one wins
    }

    @Test func anEscapedNameIsMatchedByWhatItSays() throws {
        // As a provider's parser reads it: `"mod\u0065l"` is `model`, and the last one wins.
        let text = #"{"model":"a","mod\u0065l":"b","\u006dodel2":1,"\"model":2}"#
        let spans = try scan(text, ["model", "model2", "\"model"])
        #expect(value(text, spans[0]) == #""b""#)
        #expect(value(text, spans[1]) == "1")
        #expect(value(text, spans[2]) == "2")
    }

    @Test func nameEqualsComparesBytesAndLength() {
        let key = Array("prompt_tokens".utf8)
        for (candidate, expected) in [("prompt_tokens", true), ("prompt_token", false), ("prompt_tokens_", false),
                                      ("Prompt_tokens", false), ("", false)] {
            let equal = Array(candidate.utf8).withUnsafeBytes { JSONTopLevelScanner.nameEquals($0, key) }
            #expect(equal == expected, "\(candidate)")
        }
        #expect([UInt8]().withUnsafeBytes { JSONTopLevelScanner.nameEquals($0, []) })
    }

    @Test func forEachMemberRejectsWhatScanObjectRejects() {
        for text in ["", "[]", #"{"a":1,}"#, #"{"a":1} x"#, #"{"a" 1}"#] {
            #expect(throws: JSONSyntaxError.self, "\(text)") {
                try Array(text.utf8).withUnsafeBytes { try JSONTopLevelScanner.forEachMember($0) { _, _ in } }
            }
        }
    }

    @Test(arguments: [
        "", "   ", "[]", "{", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":[1,]}"#, #"{"a":01}"#,
        #"{"a":"\q"}"#, "{\"a\":\"\u{01}\"}", #"{"a":tru}"#, #"{"a":1} x"#, #"{"a":{"b":[}}"#, #"{"a":"x}"#,
        #"{"a":1.}"#, #"{"a":-}"#, #"{"a":"\u12"}"#,
        // Bodies cut inside an escape: these used to loop forever on the `\u` case.
        #"{"a":"\u1"#, #"{"a":"\u"#, #"{"a":"\"#, #"{"a":"x\u12"#,
    ])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try scan(text, ["a"]) }
    }

    @Test(arguments: [
        "{}", #" {"a":{}} "#, #"{"a":[[],{},[{"b":null}]]}"#, #"{"a":"\"\\\/\b\f\n\r\t\u00e9"}"#, #"{"a":0,"b":-0.5E+2}"#,
    ])
    func acceptsValidJSON(_ text: String) throws {
        _ = try scan(text, ["a"])
    }

    @Test func refusesExcessiveNesting() {
        let deep = "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        #expect(throws: JSONSyntaxError.self) { try scan(deep, ["a"]) }
    }

    @Test func decodesEscapedStrings() throws {
        let text = #"{"model":"a\"b\u00e9\ud83d\ude00"}"#
        let bytes = Array(text.utf8)
        let span = try JSONTopLevelScanner.scanObject(bytes, keys: ["model"])[0]!
        let decoded = bytes.withUnsafeBytes { JSONTopLevelScanner.decodeString($0, span: span.value) }
        #expect(decoded == "a\"bé😀")
    }

    @Test func spliceReplacesOnlyTheValue() throws {
        let text = #"{"model": "public", "messages": [{"role":"user","content":"hi"}]}"#
        let bytes = Array(text.utf8)
        let span = try JSONTopLevelScanner.scanObject(bytes, keys: ["model"])[0]!
        var quoted: [UInt8] = []
        JSONTopLevelScanner.appendQuoted("up\"stream", to: &quoted)
        let out = bytes.withUnsafeBytes { JSONTopLevelScanner.splice($0, replacing: span.value, with: quoted) }
        #expect(String(decoding: out, as: UTF8.self) == #"{"model": "up\"stream", "messages": [{"role":"user","content":"hi"}]}"#)
        // The result is still valid and jansson agrees on the value.
        let doc = JSONDocument.parse(out)
        #expect(doc?.member("model")?.string == "up\"stream")
    }

    /// Open containers are tracked in a word for the first 64 levels and in an array beyond:
    /// mixed objects and arrays must close in order across that boundary.
    @Test func deepMixedNestingAcrossSixtyFourLevels() throws {
        for depth in [63, 64, 65, 100] {
            var open = "", close = ""
            for level in 0..<depth {
                if level % 3 == 0 { open += #"{"k":"#; close = "}" + close } else { open += "["; close = "]" + close }
            }
            let valid = #"{"a":"# + open + "1" + close + #","model":"m"}"#
            let spans = try scan(valid, ["a", "model"])
            #expect(value(valid, spans[1]) == #""m""#, "depth \(depth)")
            // The same with the two innermost closers swapped: must fail, at every depth.
            var wrong = Array(close)
            if let i = wrong.firstIndex(where: { $0 != wrong[0] }) { wrong.swapAt(0, i) }
            let invalid = #"{"a":"# + open + "1" + String(wrong) + #","model":"m"}"#
            #expect(throws: JSONSyntaxError.self, "depth \(depth)") { try scan(invalid, ["a"]) }
        }
    }

    @Test func spliceIntoMemoryAppliesEditsInAnyOrder() throws {
        let text = #"{"model": "public", "stream": true, "messages": []}"#
        let bytes = Array(text.utf8)
        let spans = try JSONTopLevelScanner.scanObject(bytes, keys: ["model", "stream"])
        // Out of order, one longer, one shorter, one insertion.
        let edits: [(Range<Int>, [UInt8])] = [
            (spans[1]!.value, Array("false".utf8)),
            (spans[0]!.value, Array(#""a-much-longer-upstream-id""#.utf8)),
            (1..<1, Array(#""x":1,"#.utf8)),
        ]
        let expected = #"{"x":1,"model": "a-much-longer-upstream-id", "stream": false, "messages": []}"#
        bytes.withUnsafeBytes { raw in
            let count = JSONTopLevelScanner.splicedCount(raw, edits: edits)
            #expect(count == expected.utf8.count)
            let out = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
            defer { out.deallocate() }
            JSONTopLevelScanner.splice(raw, edits: edits, into: out)
            #expect(String(decoding: out, as: UTF8.self) == expected)
        }
    }

    @Test func agreesWithJanssonOnValidity() {
        let samples = [#"{"a":[1,2,{"b":"c"}]}"#, #"{"a":"\u0041"}"#, #"{"a":1e5,"b":[true,false,null]}"#, #"{"a":[1,2}"#, #"{"a":"#]
        for s in samples {
            let bytes = Array(s.utf8)
            let ours = (try? JSONTopLevelScanner.scanObject(bytes, keys: ["a"])) != nil
            #expect(ours == (JSONDocument.parse(bytes) != nil), "\(s)")
        }
    }

    /// Strings are skipped eight bytes at a time; put every kind of special byte at every offset
    /// around the word boundaries and compare with jansson.
    @Test func everyPrefixOfAValidObjectIsRejectedPromptly() {
        // A body cut anywhere — inside an escape too — is an error, never a scan that does not end.
        let json = #"{"a":"x\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 y","b":[1,{"c":null}],"d":-1.5e3,"e":true}"#
        let bytes = Array(json.utf8)
        #expect((try? JSONTopLevelScanner.scanObject(bytes, keys: ["a"])) != nil)
        for cut in 0..<bytes.count {
            #expect(throws: JSONSyntaxError.self, "cut at \(cut)") {
                try JSONTopLevelScanner.scanObject(Array(bytes[..<cut]), keys: ["a"])
            }
        }
    }

    @Test func stringSkippingAtEveryOffset() throws {
        // Lengths past two 16-byte blocks: the skipping works a block at a time.
        let specials: [(String, Bool)] = [("\\\"", true), ("\\\\", true), ("\\u00e9", true), ("é", true), ("\u{7F}", true),
                                          (" ", true), ("\u{FF}", true), ("\n", false), ("\u{01}", false), ("\u{1F}", false),
                                          ("\\x", false)]
        for length in 0..<40 {
            for position in 0...length {
                for (special, valid) in specials {
                    let plain = String(repeating: "a", count: length)
                    let text = String(plain.prefix(position)) + special + String(plain.dropFirst(position))
                    let json = #"{"a":""# + text + #"","b":7}"#
                    let bytes = Array(json.utf8)
                    let spans = try? JSONTopLevelScanner.scanObject(bytes, keys: ["a", "b"])
                    let doc = JSONDocument.parse(bytes)
                    #expect((spans != nil) == valid, "\(json)")
                    #expect((doc != nil) == valid, "\(json)")
                    guard let spans, let doc, let a = spans[0], let b = spans[1] else { continue }
                    #expect(bytes.withUnsafeBytes { JSONTopLevelScanner.decodeString($0, span: a.value) } == doc.member("a")?.string)
                    #expect(Array(bytes[b.value]) == Array("7".utf8))
                }
                // Unterminated at every length.
                let open = Array((#"{"a":""# + String(repeating: "a", count: length)).utf8)
                #expect((try? JSONTopLevelScanner.scanObject(open, keys: ["a"])) == nil)
            }
        }
    }
}
