import Testing
@testable import KeyStore

@Suite struct RecordCodingTests {
    static let samples: [KeyRecord] = [
        KeyRecord(id: "key_0123456789ab", name: "", plan: "free", createdAt: 0),
        KeyRecord(id: "key_ffffffffffff", name: "ci – 名前", plan: "enterprise-eu", createdAt: 1_767_000_000,
                  revoked: true, rpmOverride: 600, dailyTokensOverride: nil),
        KeyRecord(id: "k", name: String(repeating: "n", count: 1024), plan: "p", createdAt: -5,
                  revoked: false, rpmOverride: nil, dailyTokensOverride: Int.max),
        KeyRecord(id: "key_x", name: "n", plan: "p", createdAt: Int64.max, revoked: true,
                  rpmOverride: 0, dailyTokensOverride: 0),
    ]

    @Test(arguments: samples) func roundTrip(_ record: KeyRecord) {
        let bytes = RecordCoding.encode(record)
        #expect(bytes.withUnsafeBytes { RecordCoding.decode($0) } == record)
    }

    /// The documented layout, byte for byte: keys written by an older binary must still decode.
    @Test func layoutIsPinned() {
        let record = KeyRecord(id: "ab", name: "", plan: "p", createdAt: 0x0102, revoked: true, rpmOverride: 3,
                               dailyTokensOverride: nil)
        let expected: [UInt8] = [1, 0b011, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
                                 2, 0, 0x61, 0x62, 0, 0, 1, 0, 0x70]
        #expect(RecordCoding.encode(record) == expected)
        #expect(expected.withUnsafeBytes { RecordCoding.decode($0) } == record)
    }

    @Test func rejectsDamagedRecords() {
        let bytes = RecordCoding.encode(Self.samples[1])
        #expect(bytes.withUnsafeBytes { RecordCoding.decode($0) } != nil)
        // Every truncation, a trailing byte, an unknown version or unknown flag bits.
        for length in 0..<bytes.count {
            #expect(Array(bytes.prefix(length)).withUnsafeBytes { RecordCoding.decode($0) } == nil)
        }
        #expect((bytes + [0]).withUnsafeBytes { RecordCoding.decode($0) } == nil)
        var version = bytes; version[0] = 2
        #expect(version.withUnsafeBytes { RecordCoding.decode($0) } == nil)
        var flags = bytes; flags[1] |= 0x80
        #expect(flags.withUnsafeBytes { RecordCoding.decode($0) } == nil)
    }

    @Test func compact() {
        // version + flags + createdAt + 3 length prefixes + "key_…"(16) + "" + "free"(4)
        #expect(RecordCoding.encode(Self.samples[0]).count == 1 + 1 + 8 + 6 + 16 + 0 + 4)
    }
}
