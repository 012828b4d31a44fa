import SwitchyardJSON
import Testing

@Suite struct SpliceInPlaceTests {
    /// `spliceInPlace` against the copying `splice` it stands in for.
    private func both(_ body: [UInt8], edits: [(Range<Int>, [UInt8])], room: (before: Int, after: Int))
        -> (inPlace: [UInt8]?, copied: [UInt8], untouched: Bool) {
        let copied = body.withUnsafeBytes { bytes in
            [UInt8](unsafeUninitializedCapacity: JSONTopLevelScanner.splicedCount(bytes, edits: edits)) { out, count in
                JSONTopLevelScanner.splice(bytes, edits: edits, into: UnsafeMutableRawBufferPointer(out))
                count = out.count
            }
        }
        var storage = [UInt8](repeating: 0xEE, count: room.before) + body + [UInt8](repeating: 0xEE, count: room.after)
        let original = storage
        let bounds = storage.withUnsafeMutableBytes {
            JSONTopLevelScanner.spliceInPlace($0, start: room.before, end: room.before + body.count, edits: edits)
        }
        return (bounds.map { Array(storage[$0]) }, copied, bounds != nil || storage == original)
    }

    @Test func theModelValueAtEitherEndIsChangedWithoutMovingTheRest() {
        let messages = #"[{"role":"user","content":""# + String(repeating: "x", count: 5000) + #""}]"#
        for body in [#"{"model":"m","messages":"# + messages + "}", #"{"messages":"# + messages + #","model":"m"}"#] {
            let bytes = Array(body.utf8)
            let at = bytes.withUnsafeBytes { raw in
                (0..<raw.count - 2).first { raw[$0] == UInt8(ascii: "\"") && raw[$0 + 1] == UInt8(ascii: "m") && raw[$0 + 2] == UInt8(ascii: "\"") }!
            }
            let edits = [(at..<(at + 3), Array(#""a-much-longer-upstream-id""#.utf8)),
                         (1..<1, Array(#""stream_options":{"include_usage":true},"#.utf8))]
            let result = both(bytes, edits: edits, room: (64, 64))
            #expect(result.inPlace == result.copied)
            // Too little room: nothing done, nothing touched (the caller copies instead).
            let cramped = both(bytes, edits: edits, room: (0, 0))
            #expect(cramped.inPlace == nil && cramped.untouched)
        }
    }

    @Test func matchesTheCopyingSpliceOnRandomEdits() {
        var state: UInt64 = 0x5EED_0010
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var doneInPlace = 0
        for _ in 0..<2_000 {
            let body = (0..<next(200)).map { _ in UInt8(next(256)) }
            // Up to four non-overlapping spans (empty ones are insertions), any replacement size.
            var cuts = (0..<(2 * next(5))).map { _ in next(body.count + 1) }.sorted()
            if cuts.count % 2 == 1 { cuts.removeLast() }
            var edits: [(Range<Int>, [UInt8])] = []
            for i in stride(from: 0, to: cuts.count, by: 2) {
                edits.append((cuts[i]..<cuts[i + 1], (0..<next(40)).map { _ in UInt8(next(256)) }))
            }
            // An insertion where another edit starts has no defined order (neither splice takes
            // one; the gateway never makes one): keep only the first edit at each position.
            var seen = Set<Int>()
            edits = edits.filter { seen.insert($0.0.lowerBound).inserted }
            var shuffler = SeededShuffle(seed: state)
            edits.shuffle(using: &shuffler)
            let result = both(body, edits: edits, room: (next(48), next(48)))
            #expect(result.untouched)
            if let inPlace = result.inPlace {
                doneInPlace += 1
                #expect(inPlace == result.copied, "\(body.count) bytes, edits \(edits.map { ($0.0, $0.1.count) })")
            }
        }
        #expect(doneInPlace > 1_000)
    }
}

private struct SeededShuffle: RandomNumberGenerator {
    var seed: UInt64
    mutating func next() -> UInt64 {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return seed
    }
}
