import LMDBSupport
extension Accountant {
    /// Ends an admitted request: releases its reservation, counts the record's prompt +
    /// completion tokens against the day the request was admitted on, appends the record and
    /// adds it to the day/key/model totals — one write transaction, one commit (no fsync; see
    /// the durability note on `Accountant`). `record.keyID` must be the reservation's key.
    public func finish(_ reservation: Reservation, record: UsageRecord) throws(AccountingError) {
        try RecordCoding.validate(record)
        guard record.keyID == reservation.keyID else {
            throw .invalidArgument("record key \(record.keyID) does not match reservation key \(reservation.keyID)")
        }
        let env = environment
        try env.write("finish request") { txn throws(AccountingError) in
            try settle(txn, reservation, actualTokens: record.allowanceTokens)
            try appendRecord(txn, record, day: reservation.day, sequence: reservation.id)
            return (true, ())
        }
    }

    /// Appends a record that had no reservation (a rejection, a route without admission). Its
    /// tokens, if any, count against the key's allowance for the UTC day of `record.timeMillis`.
    public func append(_ record: UsageRecord) throws(AccountingError) {
        try RecordCoding.validate(record)
        let env = environment
        let day = UTCDay(millis: record.timeMillis)
        try env.write("append usage record") { txn throws(AccountingError) in
            if record.allowanceTokens > 0 {
                let key = Layout.allowanceKey(record.keyID, day)
                var state = try Self.readState(env, txn, key)
                state.usedTokens += record.allowanceTokens
                try env.put(txn, db[Layout.allowance], key, Layout.encode(state), "store allowance")
            }
            try appendRecord(txn, record, day: day)
            return (true, ())
        }
    }

    /// Records in `[fromMillis, toMillis)` in time order (same-millisecond records in the order
    /// their ids were taken: at admission for admitted requests, at commit for the others), optionally for one key, at most `limit`.
    public func records(fromMillis: Int64 = .min, toMillis: Int64 = .max, keyID: String? = nil,
                        limit: Int = .max) throws(AccountingError) -> [UsageRecord] {
        let env = environment
        let dbi = db[Layout.records]
        var start = ByteWriter(capacity: 8)
        start.int64Key(fromMillis)
        return try env.read("read usage records") { txn throws(AccountingError) in
            var out: [UsageRecord] = []
            try env.scan(txn, dbi, from: start.bytes, "read usage records") { key, value throws(AccountingError) in
                var k = ByteReader(key)
                guard let time = k.int64Key() else { throw .corruptRecord(env.path, "record key") }
                guard time < toMillis, out.count < limit else { return false }
                guard let record = RecordCoding.decode(value) else { throw .corruptRecord(env.path, "usage record") }
                if keyID == nil || record.keyID == keyID { out.append(record) }
                return true
            }
            return out
        }
    }

    /// `sequence`: the reservation's id, which saves taking another; nil takes the transaction's
    /// (`newID`). Either way a record never replaces another.
    func appendRecord(_ txn: OpaquePointer, _ record: UsageRecord, day: UTCDay, sequence: UInt64? = nil) throws(AccountingError) {
        let env = environment
        let value = RecordCoding.encode(record)
        let recordsDB = db[Layout.records]
        if let sequence,
           try env.put(txn, recordsDB, Layout.recordKey(record.timeMillis, sequence), value, overwrite: false, "append usage record") {
            // Stored under the reservation's id.
        } else {
            // No id yet, or the reservation was finished before at the same millisecond.
            try env.put(txn, recordsDB, Layout.recordKey(record.timeMillis, newID(txn)), value, "append usage record")
        }
        let totalsKey = Layout.totalsKey(day, record.keyID, record.model)
        var totals = UsageTotals()
        if let raw = try env.get(txn, db[Layout.totals], totalsKey, "read totals") {
            guard let stored = RecordCoding.decodeTotals(raw) else { throw .corruptRecord(env.path, "totals") }
            totals = stored
        }
        totals.add(record)
        try env.put(txn, db[Layout.totals], totalsKey, RecordCoding.encode(totals), "store totals")
    }
}
