import LMDBSupport
/// How `switchyard usage --by` groups totals.
public enum UsageGrouping: String, Sendable, Hashable, CaseIterable {
    case day, model, key
}

/// One row of a usage report: the group's label (`YYYY-MM-DD`, a model id or a key id).
public struct UsageRow: Sendable, Hashable {
    public var group: String
    public var totals: UsageTotals
}

/// What `GET /v1/usage` shows a key about itself.
public struct KeyUsageSnapshot: Sendable, Hashable {
    public var day: UTCDay
    /// Today's records summed (tokens, credits, outcomes).
    public var today: UsageTotals
    /// Allowance: limit, used (settled) and reserved (in flight) tokens, remaining, reset.
    public var tokens: TokenStatus
    /// Requests-per-minute limiter: limit, remaining, `inWindow`, reset.
    public var requests: RequestRateStatus
}

extension Accountant {
    /// Totals from the per-(day, key, model) table, days ≥ `since` (all days if nil), optionally
    /// for one key, grouped and sorted by the group label. Never reads individual records.
    public func totals(by grouping: UsageGrouping, keyID: String? = nil, since: UTCDay? = nil) throws(AccountingError) -> [UsageRow] {
        let env = environment
        let dbi = db[Layout.totals]
        var start = ByteWriter(capacity: 4)
        if let since { start.dayKey(since) }
        let groups = try env.read("read usage totals") { txn throws(AccountingError) in
            var groups: [String: UsageTotals] = [:]
            try env.scan(txn, dbi, from: start.bytes, "read usage totals") { key, value throws(AccountingError) in
                guard let (day, key, model) = Layout.decodeTotalsKey(key), let totals = RecordCoding.decodeTotals(value) else {
                    throw .corruptRecord(env.path, "totals")
                }
                if let keyID, key != keyID { return true }
                let label: String
                switch grouping {
                case .day: label = day.description
                case .model: label = model
                case .key: label = key
                }
                groups[label, default: UsageTotals()].add(totals)
                return true
            }
            return groups
        }
        return groups.keys.sorted().map { UsageRow(group: $0, totals: groups[$0]!) }
    }

    /// A key's usage today (UTC) and where it stands against its limits.
    public func today(keyID: String, limits: KeyLimits) throws(AccountingError) -> KeyUsageSnapshot {
        try RecordCoding.validateKeyID(keyID)
        try Self.validate(limits)
        let nowMillis = clock.nowMillis()
        let day = UTCDay(millis: nowMillis)
        let env = environment
        let dbi = db
        let prefix = Layout.totalsPrefix(day, keyID).bytes
        return try env.read("read key usage") { txn throws(AccountingError) in
            var today = UsageTotals()
            try env.scan(txn, dbi[Layout.totals], from: prefix, "read key usage") { key, value throws(AccountingError) in
                guard key.starts(with: prefix) else { return false }
                guard let totals = RecordCoding.decodeTotals(value) else { throw .corruptRecord(env.path, "totals") }
                today.add(totals)
                return true
            }
            let state = try Self.readState(env, txn, Layout.allowanceKey(keyID, day))
            let tat = try readTAT(txn, Layout.rateKey(keyID))
            return KeyUsageSnapshot(day: day, today: today,
                                    tokens: TokenStatus(limit: limits.dailyTokens, state: state, nowMillis: nowMillis),
                                    requests: GCRA(requestsPerMinute: limits.requestsPerMinute).status(tat: tat, nowMicros: nowMillis * 1000))
        }
    }
}
