import LMDBSupport
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
        var out = ByteWriter(capacity: 2 + 24 + 6 + record.id.utf8.count + record.name.utf8.count + record.plan.utf8.count)
        var flags: UInt8 = 0
        if record.revoked { flags |= revokedFlag }
        if record.rpmOverride != nil { flags |= rpmFlag }
        if record.dailyTokensOverride != nil { flags |= dailyTokensFlag }
        out.u8(version)
        out.u8(flags)
        out.int64LE(record.createdAt)
        if let rpm = record.rpmOverride { out.int64LE(Int64(rpm)) }
        if let daily = record.dailyTokensOverride { out.int64LE(Int64(daily)) }
        out.string16(record.id)
        out.string16(record.name)
        out.string16(record.plan)
        return out.bytes
    }

    /// nil when the bytes are not a version-1 record.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> KeyRecord? {
        var reader = ByteReader(bytes)
        guard let version = reader.u8(), version == Self.version,
              let flags = reader.u8(), flags & ~(revokedFlag | rpmFlag | dailyTokensFlag) == 0,
              let createdAt = reader.int64LE() else { return nil }
        var rpm: Int?
        var daily: Int?
        if flags & rpmFlag != 0 {
            guard let value = reader.int64LE() else { return nil }
            rpm = Int(value)
        }
        if flags & dailyTokensFlag != 0 {
            guard let value = reader.int64LE() else { return nil }
            daily = Int(value)
        }
        guard let id = reader.string16(), let name = reader.string16(), let plan = reader.string16(),
              reader.atEnd else { return nil }
        return KeyRecord(id: id, name: name, plan: plan, createdAt: createdAt,
                         revoked: flags & revokedFlag != 0, rpmOverride: rpm, dailyTokensOverride: daily)
    }
}
