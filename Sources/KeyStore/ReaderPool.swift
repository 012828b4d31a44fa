import CLMDB
import LMDBSupport
import Synchronization

/// A reset read-only transaction waiting in the pool.
///
/// `@unchecked Sendable`: with `MDB_NOTLS` a read transaction is tied to its reader slot, not to
/// a thread, so it may be renewed on any thread; the pool hands each one to a single borrower at
/// a time, and nothing else holds the pointer.
struct ReadTxn: @unchecked Sendable {
    let handle: OpaquePointer
}

/// The key store's read transactions, pooled.
///
/// `mdb_txn_reset` keeps the transaction's reader slot, so the next `mdb_txn_renew` only takes a
/// snapshot of the current transaction id, where `mdb_txn_begin` with `MDB_NOTLS` locks the
/// shared reader-table mutex to find a free slot. Each `read` renews, so it sees every commit made
/// until that moment, by this process or another (the CLI).
///
/// Plain (checked) `Sendable`: the only state, the idle transactions, is inside a `Mutex`.
final class ReaderPool: Sendable {
    /// Reset transactions kept for reuse; each holds a reader slot (not pages). More concurrent
    /// readers than this still work, their extra transactions are aborted after use.
    static let maxIdleReaders = 64

    private let idle = Mutex<[ReadTxn]>([])

    /// Reset read transactions waiting for reuse (for tests and diagnostics).
    var idleCount: Int { idle.withLock { $0.count } }

    /// Runs `body` in a read-only snapshot of `environment` taken now, in a pooled transaction.
    /// Values returned by `get` point into the memory map and are valid only inside `body`: copy
    /// (decode) them out.
    func read<R>(_ environment: KeyEnvironment, _ action: String,
                 _ body: (OpaquePointer) throws(KeyStoreError) -> R) throws(KeyStoreError) -> R {
        // Inside `withEnvironment`, so `close` waits until the transaction is back in the pool.
        try environment.withEnvironment { env throws(KeyStoreError) in
            let txn = try renewOrBegin(idle.withLock { $0.popLast() }, env, environment.path, action)
            defer {
                mdb_txn_reset(txn)
                let keep = idle.withLock { idle in
                    guard idle.count < Self.maxIdleReaders else { return false }
                    idle.append(ReadTxn(handle: txn))
                    return true
                }
                if !keep { mdb_txn_abort(txn) }
            }
            return try body(txn)
        }
    }

    private func renewOrBegin(_ pooled: ReadTxn?, _ env: OpaquePointer, _ path: String,
                              _ action: String) throws(KeyStoreError) -> OpaquePointer {
        if let pooled {
            let rc = mdb_txn_renew(pooled.handle)
            if rc == 0 { return pooled.handle }
            mdb_txn_abort(pooled.handle)
            throw .storage(path, action, rc: rc)
        }
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        if rc == MDB_READERS_FULL {
            // Slots may be held by dead processes: reclaim them once and retry.
            var dead: Int32 = 0
            if mdb_reader_check(env, &dead) == 0, dead > 0 {
                rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
            }
        }
        guard rc == 0, let txn else { throw .storage(path, action, rc: rc) }
        return txn
    }

    /// Aborts the idle transactions. The environment's `close` calls it once no read is in
    /// progress (every transaction is then back in the pool), before it closes the environment.
    func drain() {
        for txn in idle.withLock({ idle in defer { idle = [] }; return idle }) { mdb_txn_abort(txn.handle) }
    }
}
