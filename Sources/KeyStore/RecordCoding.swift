/// The on-disk form of a `KeyRecord` (the value under `key_by_hash`).
///
/// Hand-written binary rather than JSON because the gateway decodes one record per request:
/// this decoder reads straight out of LMDB's memory map with no intermediate buffers, where
/// `JSONDecoder` would cost microseconds per call.
///
/// Layout, little-endian:
///
///     u8   version (1)
///     u8   flags: bit 0 revoked, bit 1 rpmOverride present, bit 2 dailyTokensOverride present
///     i64  createdAt
///     i64  rpmOverride           (only if bit 1)
///     i64  dailyTokensOverride   (only if bit 2)
///     u16  length, UTF-8 bytes   id
///     u16  length, UTF-8 bytes   name
///     u16  length, UTF-8 bytes   plan
///
/// A record must be consumed exactly; anything else is corrupt. A future layout gets a new
/// version byte, so an old binary refuses it instead of rewriting it without the new fields.
enum RecordCoding {
    static let version: UInt8 = 1
    /// Strings are length-prefixed with a u16.
    static let maxStringBytes = Int(UInt16.max)

    private static let revokedFlag: UInt8 = 1
    private static let rpmFlag: UInt8 = 2
    private static let dailyTokensFlag: UInt8 = 4

    static func encode(_ record: KeyRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 + 24 + 6 + record.id.utf8.count + record.name.utf8.count + record.plan.utf8.count)
        var flags: UInt8 = 0
        if record.revoked { flags |= revokedFlag }
        if record.rpmOverride != nil { flags |= rpmFlag }
        if record.dailyTokensOverride != nil { flags |= dailyTokensFlag }
        out.append(version)
        out.append(flags)
        append(record.createdAt, to: &out)
        if let rpm = record.rpmOverride { append(Int64(rpm), to: &out) }
        if let daily = record.dailyTokensOverride { append(Int64(daily), to: &out) }
        for text in [record.id, record.name, record.plan] {
            let utf8 = Array(text.utf8)
            precondition(utf8.count <= maxStringBytes, "caller must validate string lengths")
            out.append(UInt8(truncatingIfNeeded: utf8.count))
            out.append(UInt8(truncatingIfNeeded: utf8.count >> 8))
            out.append(contentsOf: utf8)
        }
        return out
    }

    /// nil when the bytes are not a version-1 record.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> KeyRecord? {
        var reader = Reader(bytes: bytes)
        guard let version = reader.byte(), version == Self.version,
              let flags = reader.byte(), flags & ~(revokedFlag | rpmFlag | dailyTokensFlag) == 0,
              let createdAt = reader.int64() else { return nil }
        var rpm: Int?
        var daily: Int?
        if flags & rpmFlag != 0 {
            guard let value = reader.int64() else { return nil }
            rpm = Int(value)
        }
        if flags & dailyTokensFlag != 0 {
            guard let value = reader.int64() else { return nil }
            daily = Int(value)
        }
        guard let id = reader.string(), let name = reader.string(), let plan = reader.string(),
              reader.atEnd else { return nil }
        return KeyRecord(id: id, name: name, plan: plan, createdAt: createdAt,
                         revoked: flags & revokedFlag != 0, rpmOverride: rpm, dailyTokensOverride: daily)
    }

    private static func append(_ value: Int64, to out: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    /// Bounds-checked cursor over the mapped bytes.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func int64() -> Int64? {
            guard bytes.count - offset >= 8 else { return nil }
            defer { offset += 8 }
            return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        }

        mutating func string() -> String? {
            guard bytes.count - offset >= 2 else { return nil }
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            offset += 2
            guard bytes.count - offset >= length else { return nil }
            defer { offset += length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + length]), as: UTF8.self)
        }
    }
}
