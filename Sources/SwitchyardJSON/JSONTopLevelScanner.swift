// Validates a JSON document and locates a few top-level members without building a tree.
//
// Why: the gateway must read `model` and `stream` from every request and rewrite `model`, and a
// coding agent's request is ~100 KB. A full jansson parse + dump of that costs ~2 ms; one pass
// over the bytes that only checks the grammar costs a small fraction of it (see BENCHMARKS.md).
// The rest of the body is forwarded byte for byte.

import CJSONScan
#if canImport(Glibc)
import Glibc
#endif

public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public var offset: Int
    public var reason: String
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

public enum JSONValueKind: Sendable, Equatable {
    case string, number, object, array, bool, null
}

public struct JSONMemberSpan: Sendable, Equatable {
    /// The value's bytes, quotes included for strings.
    public var value: Range<Int>
    public var kind: JSONValueKind
}

/// Member names to look for, encoded once (a request path scans several bodies per request).
public struct JSONKeySet: Sendable, ExpressibleByArrayLiteral {
    let names: [[UInt8]]
    public init(_ keys: [String]) { names = keys.map { Array($0.utf8) } }
    public init(arrayLiteral keys: String...) { self.init(keys) }
}

public struct JSONTopLevelScanner {
    /// Nesting deeper than this is refused rather than risking unbounded work.
    public static let maxDepth = 512

    /// Scans `bytes`, which must hold exactly one JSON object (whitespace around it allowed).
    /// Returns the spans of the wanted keys, in the order of `keys` (nil when absent; the last
    /// occurrence wins, as in most parsers).
    public static func scanObject(_ bytes: UnsafeRawBufferPointer, keys: [String]) throws(JSONSyntaxError) -> [JSONMemberSpan?] {
        try scanObject(bytes, keys: JSONKeySet(keys))
    }

    public static func scanObject(_ bytes: UnsafeRawBufferPointer, keys: JSONKeySet) throws(JSONSyntaxError) -> [JSONMemberSpan?] {
        var repeated: UInt64 = 0
        return try scanObject(bytes, keys: keys, repeated: &repeated)
    }

    /// `scanObject`, also setting bit `i` of `repeated` when key `i` (< 64) occurs more than once.
    public static func scanObject(_ bytes: UnsafeRawBufferPointer, keys: JSONKeySet,
                                  repeated: inout UInt64) throws(JSONSyntaxError) -> [JSONMemberSpan?] {
        let wanted = keys.names
        var found = [JSONMemberSpan?](repeating: nil, count: wanted.count)
        var seen: UInt64 = 0, again: UInt64 = 0
        func note(_ i: Int, _ span: JSONMemberSpan) {
            found[i] = span
            guard i < 64 else { return }
            let bit = UInt64(1) << UInt64(i)
            if seen & bit != 0 { again |= bit }
            seen |= bit
        }
        try forEachMember(bytes) { name, span in
            if name.contains(UInt8(ascii: "\\")) {
                // An escaped name (`"mod\u0065l"`) is compared by what it says, as the provider's
                // parser will read it: otherwise a second, escaped `model` went unchecked past the
                // plan and reached the provider, whose parser keeps the last one.
                let start = bytes.baseAddress.map { name.baseAddress! - $0 } ?? 0
                let decoded = Array(decodeString(bytes, span: (start - 1)..<(start + name.count + 1)).utf8)
                for (i, key) in wanted.enumerated() where decoded == key { note(i, span) }
                return
            }
            for (i, key) in wanted.enumerated() where nameEquals(name, key) { note(i, span) }
        }
        repeated = again
        return found
    }

    /// Whether a member name from `forEachMember` is `key` (compared as bytes, escapes not decoded).
    @inline(__always)
    public static func nameEquals(_ name: UnsafeRawBufferPointer, _ key: [UInt8]) -> Bool {
        name.count == key.count
            && (key.isEmpty || key.withUnsafeBytes { memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 })
    }

    /// Scans `bytes`, which must hold exactly one JSON object (whitespace around it allowed), and
    /// calls `body` with each top-level member's name (the bytes between the quotes, escapes
    /// not decoded) and value span, in document order. Allocates nothing: for reading a few
    /// fields of a small object (a `usage`), where a key set and a result array would cost more
    /// than the scan.
    @inline(__always)
    public static func forEachMember(_ bytes: UnsafeRawBufferPointer,
                                     _ body: (UnsafeRawBufferPointer, JSONMemberSpan) -> Void) throws(JSONSyntaxError) {
        var scanner = Cursor(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw scanner.error(scanner.atEnd ? "empty body, expected a JSON object" : "expected a JSON object")
        }
        scanner.index += 1
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                scanner.skipWhitespace()
                guard scanner.peek() == UInt8(ascii: "\"") else { throw scanner.error("expected a member name in quotes") }
                let keyStart = scanner.index + 1
                try scanner.skipString()
                let keyEnd = scanner.index - 1
                scanner.skipWhitespace()
                guard scanner.peek() == UInt8(ascii: ":") else { throw scanner.error("expected ':' after member name") }
                scanner.index += 1
                scanner.skipWhitespace()
                let valueStart = scanner.index
                let kind = try scanner.skipValue()
                body(UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyEnd]),
                     JSONMemberSpan(value: valueStart..<scanner.index, kind: kind))
                scanner.skipWhitespace()
                guard let c = scanner.peek() else { throw scanner.error("unexpected end inside the top-level object") }
                scanner.index += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw JSONSyntaxError(offset: scanner.index - 1, reason: "expected ',' or '}'") }
            }
        }
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.error("unexpected data after the JSON object") }
    }

    public static func scanObject(_ bytes: [UInt8], keys: [String]) throws(JSONSyntaxError) -> [JSONMemberSpan?] {
        do {
            return try bytes.withUnsafeBytes { buffer in try scanObject(buffer, keys: keys) }
        } catch let e as JSONSyntaxError {
            throw e
        } catch {
            fatalError("unreachable")
        }
    }

    /// The decoded text of a string value span (quotes included in `span`).
    public static func decodeString(_ bytes: UnsafeRawBufferPointer, span: Range<Int>) -> String {
        let inner = UnsafeRawBufferPointer(rebasing: bytes[(span.lowerBound + 1)..<(span.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = 0
        while i < inner.count {
            let c = inner[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = inner[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hex4(inner, i); i += 4
                // A high surrogate pairs only with a following `\uDC00`–`\uDFFF`; anything else
                // (another escape, plain text) is left to the next round and the surrogate becomes
                // U+FFFD. Checking `u` before reading digits matters: `\ud800\n    ` once read
                // "\n  " as hex digits and trapped.
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= inner.count,
                   inner[i] == UInt8(ascii: "\\"), inner[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(inner, i + 2)
                    if (0xDC00..<0xE000).contains(low) { scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00); i += 6 }
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
            default: out.append(e) // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Four hex digits; a byte that is not one reads as 0x10, which no valid escape produces, so
    /// the result is never a surrogate or a scalar by accident (and never traps).
    private static func hex4(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = b[at + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: return UInt32.max  // not a scalar: decoded as U+FFFD
            }
            v = v << 4 | d
        }
        return v
    }

    /// The value of an integer number span (no fraction or exponent, fits in 64 bits), else nil.
    public static func integer(_ bytes: UnsafeRawBufferPointer, span: JSONMemberSpan) -> Int64? {
        guard span.kind == .number, !span.value.isEmpty else { return nil }
        var i = span.value.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < span.value.upperBound else { return nil }
        // Accumulated as a negative number: Int64's range reaches one further below zero than
        // above, so -9223372036854775808 is read too.
        var value: Int64 = 0
        while i < span.value.upperBound {
            let c = bytes[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            value = next
            i += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// Whether an array span is `[]` (whitespace allowed inside).
    public static func isEmptyArray(_ bytes: UnsafeRawBufferPointer, span: JSONMemberSpan) -> Bool {
        guard span.kind == .array else { return false }
        return bytes[(span.value.lowerBound + 1)..<(span.value.upperBound - 1)].allSatisfy {
            $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09
        }
    }

    /// Appends `text` as a JSON string literal (with quotes) to `out`.
    public static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + text.utf8.count + 2)  // exact unless something is escaped
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            // Nothing to escape (model ids, usually): one copy instead of a branch per byte.
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(UInt8(ascii: "\""))
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The size of `bytes` after `edits` (non-overlapping spans, any order).
    public static func splicedCount(_ bytes: UnsafeRawBufferPointer, edits: [(Range<Int>, [UInt8])]) -> Int {
        edits.reduce(bytes.count) { $0 - $1.0.count + $1.1.count }
    }

    /// `bytes` with several non-overlapping spans replaced (any order), written into `out` in one
    /// copy; `out` must hold exactly `splicedCount` bytes.
    public static func splice(_ bytes: UnsafeRawBufferPointer, edits: [(Range<Int>, [UInt8])],
                              into out: UnsafeMutableRawBufferPointer) {
        let sorted = edits.sorted { $0.0.lowerBound < $1.0.lowerBound }
        var copied = 0
        var written = 0
        func put(_ piece: UnsafeRawBufferPointer) {
            UnsafeMutableRawBufferPointer(rebasing: out[written..<(written + piece.count)]).copyMemory(from: piece)
            written += piece.count
        }
        for (span, replacement) in sorted {
            put(UnsafeRawBufferPointer(rebasing: bytes[copied..<span.lowerBound]))
            replacement.withUnsafeBytes { put($0) }
            copied = span.upperBound
        }
        put(UnsafeRawBufferPointer(rebasing: bytes[copied...]))
        precondition(written == out.count, "splice: the output size does not match the edits")
    }

    /// `splice` without copying the whole body: the edits are applied to `storage[start..<end]`
    /// where they are. The longest unchanged run stays in place; what comes before it is rebuilt
    /// into the room before `start`, what comes after it into the room after `end`. Returns the
    /// new bounds, or nil — `storage` untouched — when that room is too small.
    ///
    /// Why: a coding agent's 100 KB turn was copied whole just to change its `model` value
    /// (~100k instructions, a tenth of the request). Here only the bytes between the edits and
    /// the longest run move: in practice the few bytes around `model` and `stream_options`.
    public static func spliceInPlace(_ storage: UnsafeMutableRawBufferPointer, start: Int, end: Int,
                                     edits: [(Range<Int>, [UInt8])]) -> Range<Int>? {
        guard !edits.isEmpty else { return start..<end }
        let sorted = edits.sorted { $0.0.lowerBound < $1.0.lowerBound }
        // Unchanged runs between the edits, relative to `start`: run i ends where edit i begins.
        var runs: [Range<Int>] = []
        runs.reserveCapacity(sorted.count + 1)
        var from = 0
        for (span, _) in sorted {
            runs.append(from..<span.lowerBound)
            from = span.upperBound
        }
        runs.append(from..<(end - start))
        let pivot = runs.indices.max { runs[$0].count < runs[$1].count }!
        let body = UnsafeRawBufferPointer(rebasing: storage[start..<end])

        var before: [UInt8] = []
        for i in 0..<pivot {
            before.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[runs[i]]))
            before.append(contentsOf: sorted[i].1)
        }
        var after: [UInt8] = []
        for i in pivot..<sorted.count {
            after.append(contentsOf: sorted[i].1)
            after.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[runs[i + 1]]))
        }
        let pivotStart = start + runs[pivot].lowerBound, pivotEnd = start + runs[pivot].upperBound
        guard pivotStart - before.count >= 0, pivotEnd + after.count <= storage.count else { return nil }
        // Built aside first: the pieces overlap the bytes they are made from.
        before.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: storage[(pivotStart - before.count)..<pivotStart]).copyMemory(from: $0)
        }
        after.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: storage[pivotEnd..<(pivotEnd + after.count)]).copyMemory(from: $0)
        }
        return (pivotStart - before.count)..<(pivotEnd + after.count)
    }

    /// `bytes` with the span replaced by `replacement` (one copy, nothing re-serialized).
    public static func splice(_ bytes: UnsafeRawBufferPointer, replacing span: Range<Int>, with replacement: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count - span.count + replacement.count)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<span.lowerBound]))
        out.append(contentsOf: replacement)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[span.upperBound...]))
        return out
    }
}

/// Grammar checks over a byte buffer.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    @inline(__always) func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    @inline(__always) mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// At an opening quote; leaves the index after the closing quote.
    mutating func skipString() throws(JSONSyntaxError) {
        var end = 0
        let outcome = Int(sy_json_skip_string(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count, index, &end))
        index = end
        guard outcome != SY_JSON_OK else { return }
        throw error(Self.reason(outcome))
    }

    /// Any value, in C (containers iteratively, so depth costs no stack); its kind from its
    /// first byte.
    mutating func skipValue() throws(JSONSyntaxError) -> JSONValueKind {
        let kind: JSONValueKind
        switch peek() {
        case UInt8(ascii: "\""): kind = .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = .bool
        case UInt8(ascii: "n"): kind = .null
        case UInt8(ascii: "{"): kind = .object
        case UInt8(ascii: "["): kind = .array
        default: kind = .number
        }
        var end = 0
        let outcome = Int(sy_json_skip_value(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count,
                                             index, JSONTopLevelScanner.maxDepth, &end))
        index = end
        guard outcome != SY_JSON_OK else { return kind }
        throw error(Self.reason(outcome))
    }

    private static func reason(_ outcome: Int) -> String {
        switch outcome {
        case SY_JSON_UNTERMINATED: "unterminated string"
        case SY_JSON_BAD_ESCAPE: "bad escape in string"
        case SY_JSON_BAD_UNICODE_ESCAPE: "bad \\u escape in string"
        case SY_JSON_CONTROL_CHARACTER: "control character in string"
        case SY_JSON_END_IN_CONTAINER: "unexpected end inside a nested value"
        case SY_JSON_EXPECTED_COMMA_OR_BRACE: "expected ',' or '}'"
        case SY_JSON_EXPECTED_COMMA_OR_BRACKET: "expected ',' or ']'"
        case SY_JSON_EXPECTED_NAME: "expected a member name in quotes"
        case SY_JSON_EXPECTED_COLON: "expected ':' after member name"
        case SY_JSON_TOO_DEEP: "nesting deeper than \(JSONTopLevelScanner.maxDepth)"
        case SY_JSON_END_IN_LITERAL: "unexpected end in literal"
        case SY_JSON_BAD_LITERAL: "invalid literal"
        case SY_JSON_DIGIT_AFTER_POINT: "expected a digit after '.'"
        case SY_JSON_DIGIT_IN_EXPONENT: "expected a digit in exponent"
        default: "expected a value"
        }
    }
}
