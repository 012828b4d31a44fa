import LMDBSupport
/// The usage environment's databases and their key/value layouts.
///
///     rate          key id                              → TAT, i64 LE (Unix µs)
///     allowance     key id, 0, day (u32 BE)             → used, reserved, in-flight count (3 × i64 LE)
///     reservations  id (u64 BE)                          → owner pid, owner start, day, tokens,
///                                                          admitted-at, key id (see `encodeReservation`)
///     records       time (i64 key order), seq (u64 BE)  → `UsageRecord` (RecordCoding)
///     totals        day (u32 BE), key id, 0, model      → `UsageTotals` (RecordCoding)
///     meta          (reserved; an earlier layout kept an id counter here)
///
/// Reservation ids and record sequence numbers are the id of the LMDB write transaction that
/// took them (`Accountant.newID`); a finished request's record reuses its reservation's id.
///
/// `records` sorts by time so a time range is one cursor walk; `totals` sorts by day first so
/// `--since` is one range scan, and holds one row per (day, key, model), so reports never scan
/// records. Days and times use the sign-flipped big-endian form so bytewise order is numeric.
enum Layout {
    static let names = ["rate", "allowance", "reservations", "records", "totals", "meta"]
    static let rate = 0, allowance = 1, reservations = 2, records = 3, totals = 4, meta = 5

    static func rateKey(_ keyID: String) -> [UInt8] { Array(keyID.utf8) }

    static func allowanceKey(_ keyID: String, _ day: UTCDay) -> [UInt8] {
        var w = ByteWriter(capacity: keyID.utf8.count + 5)
        w.raw(keyID); w.u8(0); w.dayKey(day)
        return w.bytes
    }

    static func reservationKey(_ id: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.uint64BE(id)
        return w.bytes
    }

    static func recordKey(_ timeMillis: Int64, _ seq: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 16)
        w.int64Key(timeMillis); w.uint64BE(seq)
        return w.bytes
    }

    static func totalsKey(_ day: UTCDay, _ keyID: String, _ model: String) -> [UInt8] {
        var w = totalsPrefix(day, keyID)
        w.raw(model)
        return w.bytes
    }

    static func totalsPrefix(_ day: UTCDay, _ keyID: String) -> ByteWriter {
        var w = ByteWriter(capacity: 6 + keyID.utf8.count + 32)
        w.dayKey(day); w.raw(keyID); w.u8(0)
        return w
    }

    static func decodeTotalsKey(_ key: UnsafeRawBufferPointer) -> (day: UTCDay, keyID: String, model: String)? {
        var r = ByteReader(key)
        guard let day = r.dayKey() else { return nil }
        let keyID = r.rawUntilZero()
        return (day, keyID, r.rest())
    }

    static func encode(_ s: DailyTokenState) -> [UInt8] {
        var w = ByteWriter(capacity: 24)
        w.int64LE(s.usedTokens); w.int64LE(s.reservedTokens); w.int64LE(s.requestsInFlight)
        return w.bytes
    }

    static func decodeState(_ buffer: UnsafeRawBufferPointer) -> DailyTokenState? {
        var r = ByteReader(buffer)
        guard let used = r.int64LE(), let reserved = r.int64LE(), let inFlight = r.int64LE(), r.atEnd else { return nil }
        return DailyTokenState(usedTokens: used, reservedTokens: reserved, requestsInFlight: inFlight)
    }

    static func encodeTAT(_ tat: Int64) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.int64LE(tat)
        return w.bytes
    }

    static func decodeTAT(_ buffer: UnsafeRawBufferPointer) -> Int64? {
        var r = ByteReader(buffer)
        guard let v = r.int64LE(), r.atEnd else { return nil }
        return v
    }

    /// Reservation v1: u8 version, i64 pid, i64 owner start ticks, i64 day, i64 tokens,
    /// i64 admitted-at ms, u16-length key id.
    static func encodeReservation(_ r: Reservation, owner: ProcessIdentity) -> [UInt8] {
        var w = ByteWriter(capacity: 44 + r.keyID.utf8.count)
        w.u8(1)
        w.int64LE(Int64(owner.pid)); w.int64LE(Int64(bitPattern: owner.startTicks))
        w.int64LE(Int64(r.day.daysSinceEpoch)); w.int64LE(r.tokens); w.int64LE(r.admittedAtMillis)
        w.string16(r.keyID)
        return w.bytes
    }

    static func decodeReservation(id: UInt64, _ buffer: UnsafeRawBufferPointer) -> (Reservation, ProcessIdentity)? {
        var r = ByteReader(buffer)
        guard r.u8() == 1, let pid = r.int64LE(), let start = r.int64LE(), let day = r.int64LE(),
              let tokens = r.int64LE(), let at = r.int64LE(), let key = r.string16(), r.atEnd else { return nil }
        return (Reservation(id: id, keyID: key, day: UTCDay(daysSinceEpoch: Int32(truncatingIfNeeded: day)),
                            tokens: tokens, admittedAtMillis: at),
                ProcessIdentity(pid: Int32(truncatingIfNeeded: pid), startTicks: UInt64(bitPattern: start)))
    }
}
