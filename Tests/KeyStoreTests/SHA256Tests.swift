import SHA256
import Testing

@Suite struct SHA256Tests {
    // FIPS 180-4 / NIST example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func knownVectors(_ input: String, _ expected: String) {
        #expect(SHA256.hex(Array(input.utf8)) == expected)
    }

    @Test func millionAs() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The one-shot path pads on the stack; every length around the block and padding
    /// boundaries (55/56, 63/64, 119/120) must agree with byte-at-a-time updates.
    @Test func oneShotEqualsByteAtATimeForEveryLength() {
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for length in 0...200 {
            var h = SHA256()
            for byte in data[..<length] { h.update([byte]) }
            let incremental = h.finalize()
            #expect(SHA256.hash(Array(data[..<length])) == incremental, "length \(length)")
            // A sequence without contiguous storage takes the incremental path.
            #expect(SHA256.hash(data[..<length].lazy.map { $0 }) == incremental, "length \(length)")
        }
    }

    @Test func incrementalEqualsOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 63, 64, 65, 500, 999] {
            var h = SHA256()
            h.update(data[..<split])
            h.update(data[split...])
            #expect(h.finalize() == SHA256.hash(data))
        }
    }
}
