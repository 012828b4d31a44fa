// Deterministic randomized ("fuzz-style") tests for the byte-level parsers on the request and
// response path: each must terminate, never trap, and give the same answer as a reference
// (jansson, the whole-input result, or a small independent implementation written here).
//
// Every generator is seeded: a failure reproduces on every run. Iteration counts are kept to a
// few thousand cases per test so that each runs well under 2 s in a debug build.
import NIOHTTP1
import SwitchyardJSON
import Testing
@testable import Gateway

// MARK: - Deterministic randomness

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to drive mutations.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
}

// MARK: - Shared helpers

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
/// A printable form of arbitrary bytes for failure messages.
private func show(_ b: [UInt8]) -> String {
    b.map { c in (0x20..<0x7F).contains(c) && c != 0x5C ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16) }.joined()
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { index(of: needle, in: haystack, from: 0) != nil }
private func index(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
    var i = from
    while i + needle.count <= haystack.count {
        if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        i += 1
    }
    return nil
}
private func hasPrefix(_ b: [UInt8], at i: Int, _ p: [UInt8]) -> Bool {
    i + p.count <= b.count && b[i..<(i + p.count)].elementsEqual(p)
}

/// Realistic bodies to mutate: a request with every kind of escape, a whole response with usage,
/// a usage chunk, and one with whitespace everywhere it is allowed.
private let corpus: [[UInt8]] = [
    #"{"model":"gpt-4o","messages":[{"role":"system","content":"You are \"helpful\".\nBe brief\t\u00e9 \ud83d\ude00 caf\u00E9 / \/ \\ ok"},{"role":"user","content":[{"type":"text","text":"hi there"}]}],"stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"max_tokens":256,"tools":[],"n":null,"logprobs":false}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! \u4f60\u597d — ünïcödé"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}"#,
    #"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[ ],"usage": {"prompt_tokens":3,"completion_tokens":2}}"#,
    " {\n  \"model\" : \"x\",\r\n\t\"messages\" : [ {\"role\" : \"user\" , \"content\" : \"\" } ] , \"stream\" : false , \"n\" : -0.5E+2 }\n",
].map(bytes)

/// Bytes that matter to a JSON grammar, plus control bytes and bytes that break UTF-8.
private let specialBytes: [UInt8] = bytes(#""\{}[],:u-0e.tn "#) + [0x00, 0x01, 0x1F, 0x0A, 0x0D, 0x09, 0x7F, 0xC3, 0xFF]

/// One to three random edits: a bit flip, a byte replaced by / inserted as a special byte, a byte
/// deleted, a truncation, or a short slice duplicated elsewhere.
private func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    for _ in 0..<(1 + rng.below(3)) {
        guard !b.isEmpty else { b.append(rng.pick(specialBytes)); continue }
        let at = rng.below(b.count)
        switch rng.below(6) {
        case 0: b[at] ^= UInt8(1) << UInt8(rng.below(8))
        case 1: b[at] = rng.pick(specialBytes)
        case 2: b.insert(rng.pick(specialBytes), at: at)
        case 3: b.remove(at: at)
        case 4: b.removeSubrange(at...)
        default:
            let end = min(b.count, at + 1 + rng.below(8))
            let slice = Array(b[at..<end])
            b.insert(contentsOf: slice, at: rng.below(b.count + 1))
        }
    }
    return b
}

/// Inputs on which the scanner and jansson are specified the same way. Outside it jansson is
/// stricter on purpose (the scanner only checks the grammar): it rejects invalid UTF-8, a
/// `\u0000` escape, unpaired surrogate escapes, integers beyond 64 bits and reals beyond a double.
/// The check is conservative: it may exclude a few inputs it need not.
private func inSharedDomain(_ b: [UInt8]) -> Bool {
    guard String(validating: b, as: UTF8.self) != nil else { return false }
    var digitRun = 0
    for (i, c) in b.enumerated() {
        digitRun = (0x30...0x39).contains(c) ? digitRun + 1 : 0
        if digitRun >= 16 { return false }
        if (c == UInt8(ascii: "e") || c == UInt8(ascii: "E")) && i + 3 < b.count {
            var j = i + 1
            if b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-") { j += 1 }
            if j + 2 < b.count && b[j...(j + 2)].allSatisfy({ (0x30...0x39).contains($0) }) { return false }
        }
        if c == UInt8(ascii: "\\") && i + 5 < b.count && b[i + 1] == UInt8(ascii: "u") {
            let hex = text(Array(b[(i + 2)...(i + 5)]))
            if let v = UInt32(hex, radix: 16), v == 0 || (0xD800...0xDFFF).contains(v) {
                // A well-formed pair is fine; anything else (or a pair we cannot see whole) is not.
                let pairedHigh = (0xD800...0xDBFF).contains(v) && i + 11 < b.count && b[i + 6] == 0x5C && b[i + 7] == UInt8(ascii: "u")
                    && UInt32(text(Array(b[(i + 8)...(i + 11)])), radix: 16).map { (0xDC00...0xDFFF).contains($0) } == true
                let lowOfPair = (0xDC00...0xDFFF).contains(v) && i >= 6 && b[i - 6] == 0x5C && b[i - 5] == UInt8(ascii: "u")
                    && UInt32(text(Array(b[(i - 4)...(i - 1)])), radix: 16).map { (0xD800...0xDBFF).contains($0) } == true
                if !(pairedHigh || lowOfPair) { return false }
            }
        }
    }
    return true
}

private let scanKeys = ["model", "messages", "stream", "usage", "choices", "n", "max_tokens", "id"]

@Suite struct ParserRobustnessTests {

    // MARK: 1. JSONTopLevelScanner

    /// Checks one input against jansson; returns whether the scanner accepted it.
    @discardableResult
    private func crossCheck(_ input: [UInt8], label: String) -> Bool {
        let spans = try? JSONTopLevelScanner.scanObject(input, keys: scanKeys)
        let doc = JSONDocument.parse(input)
        let janssonObject = doc?.root.isObject == true
        let shared = inSharedDomain(input)
        if shared {
            #expect((spans != nil) == janssonObject, "validity differs from jansson: \(label) \(show(input))")
        } else if janssonObject {
            // Outside the shared domain jansson is only ever stricter.
            #expect(spans != nil, "jansson accepts, scanner rejects: \(label) \(show(input))")
        }
        // forEachMember must agree with scanObject: same verdict, members in order, spans
        // well-formed, last occurrence of each wanted name equal to scanObject's span.
        var members: [([UInt8], JSONMemberSpan)] = []
        let walked = input.withUnsafeBytes { raw in
            (try? JSONTopLevelScanner.forEachMember(raw) { name, span in members.append((Array(name), span)) }) != nil
        }
        #expect(walked == (spans != nil), "forEachMember and scanObject disagree: \(label) \(show(input))")
        guard let spans else { return false }
        var previousEnd = 0
        for (_, span) in members {
            #expect(span.value.lowerBound >= previousEnd && span.value.upperBound <= input.count && !span.value.isEmpty)
            previousEnd = span.value.upperBound
            let first = input[span.value.lowerBound], last = input[span.value.upperBound - 1]
            switch span.kind {
            case .string: #expect(first == 0x22 && last == 0x22 && span.value.count >= 2)
            case .object: #expect(first == UInt8(ascii: "{") && last == UInt8(ascii: "}"))
            case .array: #expect(first == UInt8(ascii: "[") && last == UInt8(ascii: "]"))
            case .bool: #expect(first == UInt8(ascii: "t") || first == UInt8(ascii: "f"))
            case .null: #expect(Array(input[span.value]) == bytes("null"))
            case .number: #expect(first == UInt8(ascii: "-") || (0x30...0x39).contains(first))
            }
        }
        for (k, key) in scanKeys.enumerated() {
            let last = members.last(where: { $0.0 == bytes(key) })?.1
            #expect(spans[k] == last, "scanObject span for \(key): \(label)")
        }
        // Values, compared with jansson where names cannot differ by escaping and jansson defines them.
        guard shared, let doc, janssonObject, !members.contains(where: { $0.0.contains(0x5C) }) else { return true }
        input.withUnsafeBytes { raw in
            for (k, key) in scanKeys.enumerated() {
                let member = doc.member(key)
                #expect((spans[k] != nil) == (member != nil), "presence of \(key): \(label) \(show(input))")
                guard let span = spans[k], let member else { continue }
                switch span.kind {
                case .string:
                    #expect(JSONTopLevelScanner.decodeString(raw, span: span.value) == member.string,
                            "decoded \(key): \(label) \(show(input))")
                case .number:
                    #expect(JSONTopLevelScanner.integer(raw, span: span) == member.int.map(Int64.init),
                            "integer \(key): \(label) \(show(input))")
                case .array:
                    #expect(JSONTopLevelScanner.isEmptyArray(raw, span: span) == (member.arrayCount == 0),
                            "isEmptyArray \(key): \(label) \(show(input))")
                default:
                    #expect(JSONTopLevelScanner.integer(raw, span: span) == nil)
                    #expect(!JSONTopLevelScanner.isEmptyArray(raw, span: span))
                }
            }
        }
        return true
    }

    /// 2,400 mutated bodies (600 per corpus body), each cross-checked with jansson.
    @Test func scannerAgreesWithJanssonOnMutatedBodies() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var accepted = 0, rejected = 0
        for (n, body) in corpus.enumerated() {
            #expect(crossCheck(body, label: "corpus \(n)"), "the unmutated corpus body \(n) must be valid")
            for round in 0..<600 {
                if crossCheck(mutate(body, &rng), label: "corpus \(n) round \(round)") { accepted += 1 } else { rejected += 1 }
            }
        }
        // The mutations must exercise both outcomes, or this test checks little.
        #expect(accepted > 100 && rejected > 1000, "accepted \(accepted), rejected \(rejected)")
    }

    /// Every prefix of every corpus body, and of 40 mutated bodies the scanner accepts, is
    /// rejected (by the scanner and by jansson) up to the closing brace, and accepted from there.
    @Test func everyTruncationIsRejectedUntilTheClosingBrace() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        var bodies = corpus
        while bodies.count < corpus.count + 40 {
            let m = mutate(rng.pick(corpus), &rng)
            if inSharedDomain(m), (try? JSONTopLevelScanner.scanObject(m, keys: ["model"])) != nil { bodies.append(m) }
        }
        for body in bodies {
            let close = body.lastIndex(of: UInt8(ascii: "}"))!
            for cut in 0...body.count {
                let prefix = Array(body[..<cut])
                let ok = (try? JSONTopLevelScanner.scanObject(prefix, keys: scanKeys)) != nil
                #expect(ok == (cut > close), "cut \(cut) of \(show(body))")
                #expect((JSONDocument.parse(prefix) != nil) == (cut > close), "jansson, cut \(cut) of \(show(body))")
            }
        }
    }

    /// Strings made of random escapes (every simple escape, BMP and astral `\u`, raw UTF-8)
    /// decode exactly as jansson decodes them, in 2,000 bodies.
    @Test func decodeStringMatchesJanssonOnRandomEscapes() throws {
        var rng = SplitMix64(seed: 0x5EED_0003)
        let pieces = [#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#, #"\u00e9"#, #"\u00E9"#, #"\u0041"#,
                      #"\u001f"#, #"\u4F60"#, #"\uFFFF"#, #"\ud83d\ude00"#, #"\uDBFF\uDFFF"#, #"\uD800\uDC00"#, "a", " ", "é",
                      "😀", "\u{7F}", "u", "D800", "/", "'"]
        for round in 0..<2_000 {
            var value = ""
            for _ in 0..<rng.below(12) { value += rng.pick(pieces) }
            let body = bytes(#"{"model":""# + value + #"","n":1}"#)
            let spans = try JSONTopLevelScanner.scanObject(body, keys: ["model"])
            let decoded = body.withUnsafeBytes { JSONTopLevelScanner.decodeString($0, span: spans[0]!.value) }
            let reference = JSONDocument.parse(body)?.member("model")?.string
            #expect(reference != nil && decoded == reference, "round \(round): \(value)")
        }
    }

    /// Once trapped (a `UInt8` underflow in `hex4`) on `\ud800\n    ` — after a high surrogate it
    /// read the four bytes after any escape as hex — and paired `\ud800` with the digits after a
    /// `\n` escape. The scanner accepts these strings, and `ResolveModel` decodes a client's
    /// `model` with `decodeString`, so one request could crash the gateway.
    @Test
    func decodeStringAfterAnUnpairedHighSurrogate() throws {
        let cases: [(json: String, expected: String)] = [
            (#"{"model":"\ud800\n    "}"#, "\u{FFFD}\n    "),
            (#"{"model":"\uD83D\"----x"}"#, "\u{FFFD}\"----x"),
            (#"{"model":"a\udbff\/ !!!"}"#, "a\u{FFFD}/ !!!"),
            (#"{"model":"\ud800\nDC00"}"#, "\u{FFFD}\nDC00"),
            (#"{"model":"\ud800\\uDC00"}"#, "\u{FFFD}\\uDC00"),
        ]
        for (json, expected) in cases {
            let body = bytes(json)
            let span = try #require(try JSONTopLevelScanner.scanObject(body, keys: ["model"])[0])
            #expect(body.withUnsafeBytes { JSONTopLevelScanner.decodeString($0, span: span.value) } == expected, "\(json)")
        }
    }

    /// Where jansson is stricter than the scanner (see `inSharedDomain`): pinned, so that a change
    /// to either side is noticed. The scanner checks grammar only; the gateway forwards the bytes.
    @Test func documentedDifferencesFromJansson() {
        let scannerOnly: [[UInt8]] = [
            bytes(#"{"a":""#) + [0xFF] + bytes(#""}"#),                      // invalid UTF-8 in a string
            bytes(#"{"a":""#) + [0xC3] + bytes(#""}"#),                      // truncated UTF-8 sequence
            bytes(#"{"a":""#) + [0xED, 0xA0, 0x80] + bytes(#""}"#),          // a surrogate encoded in UTF-8
            bytes(#"{"a":"\u0000"}"#),                                       // NUL escape
            bytes(#"{"a":"\ud800"}"#), bytes(#"{"a":"\udc00x"}"#),           // unpaired surrogates
            bytes(#"{"a":99999999999999999999}"#),                           // integer beyond 64 bits
            bytes(#"{"a":1e400}"#),                                          // real beyond a double
        ]
        for input in scannerOnly {
            #expect((try? JSONTopLevelScanner.scanObject(input, keys: ["a"])) != nil, "\(show(input))")
            #expect(JSONDocument.parse(input) == nil, "\(show(input))")
            #expect(!inSharedDomain(input), "\(show(input))")
        }
        // jansson takes a top-level array; the scanner wants an object.
        #expect(JSONDocument.parse(bytes("[1]")) != nil)
        #expect((try? JSONTopLevelScanner.scanObject(bytes("[1]"), keys: [])) == nil)
    }

    /// The scanner's verdict — accepted, or the offset and reason of its error — equals a plain
    /// byte-at-a-time reference's, on 3,000 random documents (long strings with escapes at every
    /// alignment of the C skipper's 16-byte blocks, nested containers, every scalar kind) and
    /// mutations of them, and at the nesting limit.
    @Test func scannerErrorsMatchAByteAtATimeReference() {
        var rng = SplitMix64(seed: 0x5EED_0009)
        var accepted = 0, rejected = 0
        for round in 0..<3_000 {
            var doc = bytes(#"{"model":"m","messages":"#)
            randomValue(&doc, depth: 0, &rng)
            doc += bytes(#","stream":true}"#)
            let input = round % 3 == 0 ? doc : mutate(doc, &rng)
            let mine = scannerVerdict(input)
            let reference = ReferenceScanner.verdict(input)
            #expect(mine == reference, "round \(round): \(show(input))")
            if mine == nil { accepted += 1 } else { rejected += 1 }
        }
        #expect(accepted > 1000 && rejected > 1000, "accepted \(accepted), rejected \(rejected)")
        // 512 open containers inside the top-level object are allowed, 513 are not.
        for depth in [511, 512, 513] {
            for opener in ["[", #"{"a":"#] {
                let closer = opener == "[" ? "]" : "}"
                let input = bytes(#"{"x":"# + String(repeating: opener, count: depth) + "1" + String(repeating: closer, count: depth) + "}")
                let mine = scannerVerdict(input)
                #expect(mine == ReferenceScanner.verdict(input), "depth \(depth) \(opener)")
                #expect((mine == nil) == (depth <= JSONTopLevelScanner.maxDepth), "depth \(depth) \(opener)")
            }
        }
    }

    private func scannerVerdict(_ input: [UInt8]) -> ReferenceScanner.Failure? {
        do {
            try input.withUnsafeBytes { raw in try JSONTopLevelScanner.forEachMember(raw) { _, _ in } }
            return nil
        } catch let error as JSONSyntaxError {
            return ReferenceScanner.Failure(offset: error.offset, reason: error.reason)
        } catch {
            return ReferenceScanner.Failure(offset: -1, reason: "\(error)")
        }
    }

    /// A random JSON value: strings of 0–300 bytes (past the C skipper's 16- and 64-byte
    /// steps) mixing ASCII, UTF-8, every escape kind and runs of escaped backslashes.
    private func randomValue(_ out: inout [UInt8], depth: Int, _ rng: inout SplitMix64) {
        let pieces = ["a", "bc", "def ", "é", "✓", "\\n", "\\\"", "\\\\", "\\\\\\\\\\\\", "\\/", "\\t", "\\u00e9",
                      "\\uD83D\\uDE00", "0123456789abcdef", "0123456789abcdef0123456789abcdef"]
        func string(_ out: inout [UInt8]) {
            out.append(0x22)
            let target = rng.chance(2) ? rng.below(40) : rng.below(301)
            var written = 0
            while written < target {
                let piece = bytes(rng.pick(pieces))
                out += piece
                written += piece.count
            }
            out.append(0x22)
        }
        switch depth >= 4 ? rng.below(4) : rng.below(7) {
        case 0: string(&out)
        case 1: out += bytes(rng.pick(["0", "-12", "3.25", "1e9", "-0.5E-3", "42"]))
        case 2: out += bytes(rng.pick(["true", "false", "null"]))
        case 3: out += bytes(rng.pick(["[]", "{}", "[ ]", "{ }"]))
        case 4, 5:
            out.append(UInt8(ascii: "["))
            for k in 0..<rng.below(5) {
                if k > 0 { out += bytes(rng.chance(4) ? " , " : ",") }
                randomValue(&out, depth: depth + 1, &rng)
            }
            out.append(UInt8(ascii: "]"))
        default:
            out.append(UInt8(ascii: "{"))
            for k in 0..<rng.below(5) {
                if k > 0 { out += bytes(",") }
                string(&out)
                out += bytes(rng.chance(4) ? " :\n" : ":")
                randomValue(&out, depth: depth + 1, &rng)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `integer` against a plain reference on 3,000 random number spellings (signs, leading
    /// zeros, fractions, exponents, values around the 64-bit limits).
    @Test func integerMatchesAReferenceOnRandomNumbers() {
        var rng = SplitMix64(seed: 0x5EED_0004)
        let fixed = ["9223372036854775807", "9223372036854775808", "-9223372036854775807", "-0", "0", "10000000000000000000"]
        for round in 0..<3_000 {
            var number = round < fixed.count ? fixed[round] : ""
            if number.isEmpty {
                if rng.chance(3) { number += "-" }
                let digits = 1 + rng.below(21)
                for d in 0..<digits { number += String(d == 0 && digits > 1 ? 1 + rng.below(9) : rng.below(10)) }
                if rng.chance(6) { number += "." + String(rng.below(100)) }
                if rng.chance(6) { number += rng.pick(["e", "E", "e+", "e-"]) + String(rng.below(30)) }
            }
            let body = bytes(#"{"n":"# + number + "}")
            guard let spans = try? JSONTopLevelScanner.scanObject(body, keys: ["n"]), let span = spans[0] else {
                Issue.record("a valid number was rejected: \(number)"); continue
            }
            let reference: Int64? = number.contains(where: { ".eE".contains($0) }) ? nil : Int64(number)
            #expect(body.withUnsafeBytes { JSONTopLevelScanner.integer($0, span: span) } == reference, "\(number)")
        }
    }

    /// `integer` once accumulated the magnitude and negated it, so the one value whose magnitude
    /// does not fit, -9223372036854775808 (Int64.min), read as nil.
    @Test
    func integerReadsInt64Min() throws {
        let body = bytes(#"{"n":-9223372036854775808}"#)
        let span = try #require(try JSONTopLevelScanner.scanObject(body, keys: ["n"])[0])
        #expect(body.withUnsafeBytes { JSONTopLevelScanner.integer($0, span: span) } == Int64.min)
        #expect(JSONDocument.parse(body)?.member("n")?.int == Int(Int64.min))
    }

    // MARK: 2. SSEEventFramer

    private func frame(_ pieces: [ArraySlice<UInt8>]) -> (events: [[UInt8]], rest: [UInt8]) {
        var framer = SSEEventFramer()
        var events: [[UInt8]] = []
        for piece in pieces {
            Array(piece).withUnsafeBytes { raw in framer.append(raw) { events.append(Array($0)) } }
        }
        return (events, framer.takeRemainder())
    }

    /// Independent reference: an event ends at the first "\n\n" or "\n\r\n".
    private func referenceEvents(_ stream: [UInt8]) -> (events: [[UInt8]], rest: [UInt8]) {
        var events: [[UInt8]] = []
        var start = 0, i = 0
        while i < stream.count {
            if stream[i] == 0x0A {
                if hasPrefix(stream, at: i + 1, [0x0A]) { events.append(Array(stream[start...(i + 1)])); start = i + 2; i = start; continue }
                if hasPrefix(stream, at: i + 1, [0x0D, 0x0A]) { events.append(Array(stream[start...(i + 2)])); start = i + 3; i = start; continue }
            }
            i += 1
        }
        return (events, Array(stream[start...]))
    }

    /// A realistic stream cut at every pair of cut points (2,346 splits) gives the same events
    /// and remainder as the whole stream, which match the reference.
    @Test func framerIsIndependentOfEveryPairOfCutPoints() {
        let stream = bytes("data: {\"model\":\"x\"}\n\n: ping\r\n\r\nevent: e\ndata: [1,\n2]\n\ndata: {}\n\r\nda")
        let whole = frame([stream[...]])
        let reference = referenceEvents(stream)
        #expect(whole.events == reference.events)
        #expect(whole.rest == reference.rest)
        for a in 0...stream.count {
            for b in a...stream.count {
                let split = frame([stream[..<a], stream[a..<b], stream[b...]])
                #expect(split.events == whole.events && split.rest == whole.rest, "cuts at \(a), \(b)")
            }
        }
    }

    /// 1,500 random streams over a hostile alphabet ("\n", "\r", ":" …), fed in random pieces:
    /// the same events as the whole and as the reference, and nothing lost.
    @Test func framerOnRandomBytesInRandomPieces() {
        var rng = SplitMix64(seed: 0x5EED_0005)
        let alphabet: [UInt8] = [0x0A, 0x0A, 0x0A, 0x0D, 0x0D, 0x20, 0x00, 0xFF] + bytes("data:{}x")
        for round in 0..<1_500 {
            let stream = (0..<rng.below(120)).map { _ in rng.pick(alphabet) }
            var pieces: [ArraySlice<UInt8>] = []
            var at = 0
            while at < stream.count {
                let end = min(stream.count, at + rng.below(9))  // empty pieces too
                pieces.append(stream[at..<end]); at = end
                if rng.chance(40) { pieces.append(ArraySlice<UInt8>()) }
            }
            let split = frame(pieces)
            let reference = referenceEvents(stream)
            #expect(split.events == reference.events && split.rest == reference.rest, "round \(round): \(show(stream))")
            #expect(Array(split.events.joined()) + split.rest == stream)
        }
    }

    // MARK: 3. ModelFieldRewriter

    private static let upstream = "gpt-4o-2024-08-06"
    private static let publicID = "gpt-4o"

    /// Independent reference for `SSEEventKeys`: each line read byte by byte. A string runs from
    /// a quote to the next quote, a backslash taking the byte after it along; a string followed by
    /// optional spaces/tabs and a colon is a key; a `model` key's string value is reported and
    /// read past.
    private func referenceKeys(_ e: [UInt8]) -> (delta: Bool, usage: Bool, models: [Range<Int>]) {
        var delta = false, usage = false, models: [Range<Int>] = []
        func stringEnd(_ open: Int, _ lineEnd: Int) -> Int? {
            var j = open + 1
            while j < lineEnd {
                if e[j] == 0x5C { j += 2; continue }
                if e[j] == 0x22 { return j + 1 }
                j += 1
            }
            return nil
        }
        var lineStart = 0
        while lineStart < e.count {
            var lineEnd = lineStart
            while lineEnd < e.count && e[lineEnd] != 0x0A { lineEnd += 1 }
            var i = lineStart
            while i < lineEnd {
                guard e[i] == 0x22 else { i += 1; continue }
                guard let end = stringEnd(i, lineEnd) else { break }
                let name = Array(e[(i + 1)..<(end - 1)])
                i = end
                var k = end
                while k < lineEnd && (e[k] == 0x20 || e[k] == 0x09) { k += 1 }
                guard k < lineEnd && e[k] == 0x3A else { continue }
                k += 1
                while k < lineEnd && (e[k] == 0x20 || e[k] == 0x09) { k += 1 }
                if name == bytes("model"), k < lineEnd, e[k] == 0x22, let v = stringEnd(k, lineEnd) {
                    models.append(k..<v)
                    i = v
                } else if name == bytes("delta") {
                    delta = true
                } else if name == bytes("usage"), k < lineEnd, e[k] == 0x7B {
                    usage = true
                }
            }
            lineStart = lineEnd + 1
        }
        return (delta, usage, models)
    }

    /// Each `model` value the reference finds that is exactly the quoted upstream id, replaced.
    private func referenceRewrite(_ e: [UInt8], upstream: [UInt8], public p: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], copied = 0
        for value in referenceKeys(e).models where Array(e[value]) == upstream {
            out += e[copied..<value.lowerBound] + p
            copied = value.upperBound
        }
        return out + e[copied...]
    }

    private func rewrite(_ e: [UInt8], upstream: String = upstream, public p: String = publicID) -> [UInt8] {
        rewriteEvent(e, upstream: upstream, publicID: p)
    }

    /// 3,000 events assembled from fragments ("model" at odd places, cut values, whitespace):
    /// the output matches the reference, and is the input unchanged when the quoted upstream id
    /// does not occur in it.
    @Test func rewriterMatchesTheReferenceOnRandomEvents() {
        var rng = SplitMix64(seed: 0x5EED_0006)
        let up = bytes("\"\(Self.upstream)\""), pub = bytes("\"\(Self.publicID)\"")
        let fragments = ["\"model\"", "\"model\":", "\"model\" :\t", "\"model", "model\"", ":", " ", "\t", "\"", "{", "}", ",",
                         "\"\(Self.upstream)\"", "\"\(Self.upstream)", "\"\(Self.upstream)-mini\"", "\"\(Self.publicID)\"",
                         "\\\"", "data: ", "\n", "\r\n", "x", "\"choices\":[]", "é"].map(bytes)
        var unchangedCases = 0
        for round in 0..<3_000 {
            var event: [UInt8] = []
            for _ in 0..<rng.below(14) { event += rng.pick(fragments) }
            if rng.chance(4) { event = mutate(event, &rng) }
            let out = rewrite(event)
            #expect(out == referenceRewrite(event, upstream: up, public: pub), "round \(round): \(show(event))")
            if !contains(event, up) {
                unchangedCases += 1
                #expect(out == event, "no upstream id, yet changed: \(show(event))")
            }
        }
        #expect(unchangedCases > 500)
    }

    /// A realistic chunk cut at every offset and mutated 1,000 times: matches the reference; an
    /// event without the upstream id (other ids, ids with escapes) is never changed.
    @Test func rewriterOnTruncatedAndMutatedChunks() {
        var rng = SplitMix64(seed: 0x5EED_0007)
        let chunk = bytes("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\" : \"\(Self.upstream)\",\"choices\":[{\"delta\":{\"content\":\"the \\\"model\\\":\\\"\(Self.upstream)\\\"\"}}]}\n\n")
        let up = bytes("\"\(Self.upstream)\""), pub = bytes("\"\(Self.publicID)\"")
        var inputs = (0...chunk.count).map { Array(chunk[..<$0]) }
        for _ in 0..<1_000 { inputs.append(mutate(chunk, &rng)) }
        for input in inputs {
            let out = rewrite(input)
            #expect(out == referenceRewrite(input, upstream: up, public: pub), "\(show(input))")
            if !contains(input, up) { #expect(out == input, "\(show(input))") }
        }
        // The escaped mention inside the content is not a member and must stay.
        #expect(text(rewrite(chunk)).contains("\\\"model\\\":\\\"\(Self.upstream)\\\""))
        #expect(text(rewrite(chunk)).contains("\"model\" : \"\(Self.publicID)\","))
        // Ids that need escaping, and a rewriter whose public id is the upstream id: unchanged.
        for (u, p) in [("a\"b", "c"), ("tab\there", "t"), ("\\", "s"), ("same", "same")] {
            for input in inputs.prefix(200) {
                if !contains(input, bytes("\"model\"")) || u == p { #expect(rewrite(input, upstream: u, public: p) == input) }
            }
        }
    }

    // MARK: 4. UsageTap and ObservedUsage

    /// Independent reference for `dataPayload`: the first line that starts with "data:", after
    /// one optional space, up to a "\r" or the end of the line.
    private func referencePayload(_ e: [UInt8]) -> [UInt8]? {
        var lineStart = 0
        while lineStart <= e.count {
            let lineEnd = e[lineStart...].firstIndex(of: 0x0A) ?? e.count
            let line = Array(e[lineStart..<lineEnd])
            if line.starts(with: bytes("data:")) {
                var rest = line.dropFirst(5)
                if rest.first == 0x20 { rest = rest.dropFirst() }
                return Array(rest.prefix(while: { $0 != 0x0D }))
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    private struct ExpectedUsage: Equatable { var prompt, completion, cached, reasoning: Int64 }

    /// What jansson says an OpenAI usage object holds, or nil when it does not hold the two counts;
    /// each count kept within 0...2⁴⁰, as `ObservedUsage` keeps them (a negative count bills
    /// nothing, a huge one cannot overflow the sums).
    private func referenceUsage(_ usage: JSONMember) -> ExpectedUsage? {
        guard usage.isObject, let p = usage.member("prompt_tokens")?.int, let c = usage.member("completion_tokens")?.int else { return nil }
        func clamp(_ v: Int) -> Int64 { min(max(Int64(v), 0), ObservedUsage.maxReportedTokens) }
        return ExpectedUsage(prompt: clamp(p), completion: clamp(c),
                             cached: clamp(usage.member("prompt_tokens_details")?.member("cached_tokens")?.int ?? 0),
                             reasoning: clamp(usage.member("completion_tokens_details")?.member("reasoning_tokens")?.int ?? 0))
    }

    private func observed(_ u: ObservedUsage?) -> ExpectedUsage? {
        u.map { ExpectedUsage(prompt: $0.promptTokens, completion: $0.completionTokens, cached: $0.cachedPromptTokens, reasoning: $0.reasoningTokens) }
    }

    /// 2,500 mutated usage objects: `ObservedUsage(openAIUsage:)` reads what jansson reads
    /// (nil when jansson finds no integer prompt and completion counts).
    @Test func observedUsageMatchesJanssonOnMutatedUsageObjects() {
        var rng = SplitMix64(seed: 0x5EED_0008)
        let usages = [
            #"{"prompt_tokens":1200,"completion_tokens":340,"total_tokens":1540,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":128}}"#,
            #"{ "prompt_tokens" : 5 , "completion_tokens" : 7 , "prompt_tokens_details" : null }"#,
            #"{"completion_tokens_details":{"reasoning_tokens":-1,"reasoning_tokens":3},"completion_tokens":0,"prompt_tokens":0}"#,
        ].map(bytes)
        var read = 0, compared = 0
        for round in 0..<2_500 {
            let base = usages[round % usages.count]
            let input = round < usages.count ? base : mutate(base, &rng)
            let ours = observed(input.withUnsafeBytes { ObservedUsage(openAIUsage: $0) })
            if ours != nil { read += 1 }
            guard inSharedDomain(input), !input.contains(0x5C) else { continue }
            compared += 1
            let expected = JSONDocument.parse(input).flatMap { referenceUsage($0.root) }
            #expect(ours == expected, "round \(round): \(show(input))")
        }
        #expect(read > 300 && compared > 1_500, "read \(read), compared \(compared)")
    }

    /// 3,000 random events (fragments of usage chunks, truncations at every offset of a real one,
    /// mutations): `dataPayload` matches the reference; `inspect` reports the usage jansson reads,
    /// hides exactly the usage chunks with empty `choices` when asked to, and counts deltas.
    @Test func usageTapMatchesTheReferenceOnHostileEvents() {
        var rng = SplitMix64(seed: 0x5EED_0009)
        let real = bytes("data: {\"id\":\"c\",\"choices\":[ ],\"usage\": {\"prompt_tokens\":3,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":1}}}\n\n")
        let fragments = ["data:", "data: ", "\n", "\r", "\r\n", "{", "}", ",", " ", "\"usage\":{", "\"usage\": {", "\"usage\":",
                         "\"prompt_tokens\":4", "\"completion_tokens\":9", "\"choices\":[]", "\"choices\":[ ]", "\"choices\":[1]",
                         "\"delta\":", "\"delta\":{}", "\"model\":\"m\"", "null", "1", "-", "\"", "event: x", ": ping", "data"].map(bytes)
        var events = (0...real.count).map { Array(real[..<$0]) }
        while events.count < 3_000 {
            var e: [UInt8] = []
            if rng.chance(3) { e = mutate(real, &rng) } else { for _ in 0..<rng.below(16) { e += rng.pick(fragments) } }
            events.append(e)
        }
        var reportedCount = 0, hiddenCount = 0
        for (n, event) in events.enumerated() {
            let payload = event.withUnsafeBytes { raw in UsageTap.dataPayload(raw).map { Array($0) } }
            let refPayload = referencePayload(event)
            #expect(payload == refPayload, "payload \(n): \(show(event))")

            for hide in [false, true] {
                var tap = UsageTap(hideUsageChunk: hide)
                let pass = inspectEvent(&tap, event)
                let reference = referenceKeys(event)
                #expect(tap.contentChunks == (reference.delta ? 1 : 0), "delta \(n): \(show(event))")
                guard let refPayload, inSharedDomain(refPayload), !refPayload.contains(0x5C) else { continue }
                let marked = reference.usage
                let doc = marked ? JSONDocument.parse(refPayload) : nil
                let root = doc?.root.isObject == true ? doc?.root : nil
                let expectedUsage = root?.member("usage").flatMap(referenceUsage)
                let emptyChoices = root?.member("choices")?.arrayCount == 0
                #expect(observed(tap.reported) == expectedUsage, "usage \(n) hide \(hide): \(show(event))")
                #expect(pass == !(hide && emptyChoices), "pass \(n) hide \(hide): \(show(event))")
                if expectedUsage != nil && hide { reportedCount += 1 }
                if !pass { hiddenCount += 1 }
            }
        }
        #expect(reportedCount > 50 && hiddenCount > 20, "reported \(reportedCount), hidden \(hiddenCount)")
    }

    // MARK: 5. Presented key

    /// Independent reference: leading spaces, "bearer" in any ASCII case, a space, more spaces,
    /// then a non-empty key; else a non-empty x-api-key.
    private func referenceKey(authorization: String?, apiKey: String?) -> String? {
        // Header values exclude the spaces and tabs around them (RFC 9110 §5.5).
        func trimmed(_ b: [UInt8]) -> [UInt8] {
            var b = b[...]
            while let f = b.first, f == 0x20 || f == 0x09 { b = b.dropFirst() }
            while let l = b.last, l == 0x20 || l == 0x09 { b = b.dropLast() }
            return Array(b)
        }
        if let authorization {
            let value = trimmed(bytes(authorization))
            if value.count > 7, text(Array(value.prefix(7))).lowercased() == "bearer " {
                let key = trimmed(Array(value.dropFirst(7)))
                if !key.isEmpty { return text(key) }
            }
        }
        if let apiKey, case let key = trimmed(bytes(apiKey)), !key.isEmpty { return text(key) }
        return nil
    }

    /// 3,000 random header sets (scheme case, spaces, tabs, non-ASCII, empty values, both headers).
    @Test func presentedKeyMatchesTheReferenceOnRandomHeaders() {
        var rng = SplitMix64(seed: 0x5EED_000A)
        let parts = ["Bearer", "bearer", "BEARER", "bEaReR", "Bearer ", "Basic ", "Bear", "er", " ", " ", "  ", "\t", "sk-sy-abc",
                     "é", "ß", "İ", "\u{212A}", "x", "=", ",", "Bearer\u{A0}", "ＢEARER "]
        let names = ["Authorization", "authorization", "AUTHORIZATION", "x-api-key", "X-API-KEY", "x-api-keys", "other"]
        var keysFound = 0
        for round in 0..<3_000 {
            var headers: [(String, String)] = []
            for _ in 0..<rng.below(4) {
                var value = ""
                for _ in 0..<rng.below(6) { value += rng.pick(parts) }
                headers.append((rng.pick(names), value))
            }
            let got = Authenticate.presentedKey(HTTPHeaders(headers)).map(String.init)
            let authorization = headers.first(where: { $0.0.lowercased() == "authorization" })?.1
            let apiKey = headers.first(where: { $0.0.lowercased() == "x-api-key" })?.1
            #expect(got == referenceKey(authorization: authorization, apiKey: apiKey), "round \(round): \(headers)")
            if got != nil { keysFound += 1 }
        }
        #expect(keysFound > 500)
    }
}

/// The scanner's grammar and error positions written as plainly as possible: a byte at a time,
/// recursion for nesting. The reference for `scannerErrorsMatchAByteAtATimeReference`.
private struct ReferenceScanner {
    struct Failure: Error, Equatable { var offset: Int; var reason: String }
    let b: [UInt8]
    var i = 0

    static func verdict(_ input: [UInt8]) -> Failure? {
        var r = ReferenceScanner(b: input)
        do { try r.document(); return nil } catch { return error }
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> Failure { Failure(offset: offset ?? i, reason: reason) }
    private func at(_ c: String) -> Bool { i < b.count && b[i] == c.utf8.first! }
    private mutating func whitespace() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }

    private mutating func document() throws(Failure) {
        whitespace()
        guard at("{") else { throw fail(i >= b.count ? "empty body, expected a JSON object" : "expected a JSON object") }
        i += 1
        whitespace()
        if at("}") {
            i += 1
        } else {
            while true {
                whitespace()
                try memberName()
                try value(depth: 0)
                whitespace()
                guard i < b.count else { throw fail("unexpected end inside the top-level object") }
                i += 1
                if b[i - 1] == UInt8(ascii: "}") { break }
                guard b[i - 1] == UInt8(ascii: ",") else { throw fail("expected ',' or '}'", at: i - 1) }
            }
        }
        whitespace()
        guard i >= b.count else { throw fail("unexpected data after the JSON object") }
    }

    /// A member's name, its colon and the blanks up to the value.
    private mutating func memberName() throws(Failure) {
        guard at("\"") else { throw fail("expected a member name in quotes") }
        try string()
        whitespace()
        guard at(":") else { throw fail("expected ':' after member name") }
        i += 1
        whitespace()
    }

    /// `depth`: containers open around this value inside the top-level object.
    private mutating func value(depth: Int) throws(Failure) {
        guard i < b.count else { throw fail("expected a value") }
        switch b[i] {
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < JSONTopLevelScanner.maxDepth else { throw fail("nesting deeper than \(JSONTopLevelScanner.maxDepth)") }
            try container(depth: depth + 1)
        default: try number()
        }
    }

    private mutating func container(depth: Int) throws(Failure) {
        let isObject = at("{")
        let close: UInt8 = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        i += 1
        whitespace()
        guard i < b.count else { throw fail("unexpected end inside a nested value") }
        if b[i] == close { i += 1; return }
        while true {
            whitespace()
            guard i < b.count else { throw fail("unexpected end inside a nested value") }
            if isObject { try memberName() }
            try value(depth: depth)
            whitespace()
            guard i < b.count else { throw fail("unexpected end inside a nested value") }
            if b[i] == close { i += 1; return }
            guard at(",") else { throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
            i += 1
        }
    }

    private mutating func string() throws(Failure) {
        i += 1
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c < 0x20 { throw fail("control character in string") }
            guard c == UInt8(ascii: "\\") else { i += 1; continue }
            guard i + 1 < b.count else { throw fail("unterminated string", at: b.count) }
            switch b[i + 1] {
            case UInt8(ascii: "u"):
                guard i + 6 <= b.count else { throw fail("unterminated string", at: b.count) }
                for k in 2..<6 where !b[i + k].isHexDigit { throw fail("bad \\u escape in string", at: i + k) }
                i += 6
            case let e where Array(#""\/bfnrt"#.utf8).contains(e): i += 2
            default: throw fail("bad escape in string")
            }
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let w = Array(word.utf8)
        guard i + w.count <= b.count else { throw fail("unexpected end in literal") }
        guard Array(b[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
        i += w.count
    }

    private mutating func number() throws(Failure) {
        let start = i
        func digits() { while i < b.count, b[i].isDecimalDigit { i += 1 } }
        if at("-") { i += 1 }
        guard i < b.count, b[i].isDecimalDigit else { throw fail("expected a value", at: start) }
        if at("0") { i += 1 } else { digits() }
        if at(".") {
            i += 1
            guard i < b.count, b[i].isDecimalDigit else { throw fail("expected a digit after '.'") }
            digits()
        }
        if at("e") || at("E") {
            i += 1
            if at("+") || at("-") { i += 1 }
            guard i < b.count, b[i].isDecimalDigit else { throw fail("expected a digit in exponent") }
            digits()
        }
    }
}

private extension UInt8 {
    var isDecimalDigit: Bool { (0x30...0x39).contains(self) }
    var isHexDigit: Bool { isDecimalDigit || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }
}
