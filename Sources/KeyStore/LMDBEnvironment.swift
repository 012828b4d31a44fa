import CLMDB
import Glibc
import Synchronization

/// A reset read-only transaction waiting in the pool.
///
/// `@unchecked Sendable`: with `MDB_NOTLS` a read transaction is tied to its reader slot, not to
/// a thread, so it may be renewed on any thread; the pool hands each one to a single borrower at
/// a time, and nothing else holds the pointer.
struct ReadTxn: @unchecked Sendable {
    let handle: OpaquePointer
}

/// A small owner of one LMDB environment and its named sub-databases.
///
/// Read transactions are pooled: `mdb_txn_reset` keeps the transaction's reader slot, so the next
/// `mdb_txn_renew` only takes a snapshot of the current transaction id, where `mdb_txn_begin` with
/// `MDB_NOTLS` locks the shared reader-table mutex to find a free slot. Each `read` renews, so it
/// sees every commit made until that moment, by this process or another (the CLI).
///
/// `@unchecked Sendable`: the environment pointer, path and dbi handles are set in `init` and never
/// change; LMDB allows one environment to be used from many threads (read transactions with
/// `MDB_NOTLS` may move between threads; a write transaction is begun, used and committed inside
/// one call on one thread, and LMDB's writer mutex serializes writers across threads and
/// processes). The only mutable state (pool, in-flight count, closed flag) is inside a `Mutex`.
final class LMDBEnvironment: @unchecked Sendable {
    let path: String
    /// dbi handles in the order of the names given to `init`; valid until `close`.
    let databases: [MDB_dbi]
    private let env: OpaquePointer

    private struct State {
        var closed = false
        /// Calls between `enter` and `leave`: `close` waits for them, since closing the
        /// environment under a live transaction is undefined behaviour.
        var inFlight = 0
        var idleReaders: [ReadTxn] = []
    }
    private let state = Mutex(State())

    /// Reset transactions kept for reuse; each holds a reader slot (not pages). More concurrent
    /// readers than this still work, their extra transactions are aborted after use.
    static let maxIdleReaders = 64

    /// Opens (creating if needed) the environment in directory `path` and the named sub-databases.
    init(path: String, mapSize: Int, maxReaders: UInt32, databaseNames: [String]) throws(KeyStoreError) {
        var handle: OpaquePointer?
        var rc = mdb_env_create(&handle)
        guard rc == 0, let env = handle else { throw .cannotOpen(path, rc: rc) }
        rc = mdb_env_set_mapsize(env, mapSize)
        if rc == 0 { rc = mdb_env_set_maxdbs(env, MDB_dbi(max(4, databaseNames.count))) }
        if rc == 0 { rc = mdb_env_set_maxreaders(env, maxReaders) }
        // MDB_NOTLS: the server looks keys up from many threads and read transactions are pooled
        // across them. No MDB_NOSYNC/MDB_WRITEMAP: key writes are rare and must survive a crash.
        if rc == 0 { rc = mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o600) }
        guard rc == 0 else {
            mdb_env_close(env)
            throw .cannotOpen(path, rc: rc)
        }
        // Free reader slots left by processes that died with a transaction open (a crashed
        // server with a full pool would otherwise hold up to `maxIdleReaders` slots forever).
        var dead: Int32 = 0
        _ = mdb_reader_check(env, &dead)

        // Named databases must be created in a write transaction; once committed, their handles
        // are valid for every later transaction of this environment.
        var txn: OpaquePointer?
        rc = mdb_txn_begin(env, nil, 0, &txn)
        var dbis: [MDB_dbi] = []
        if rc == 0, let txn {
            for name in databaseNames {
                var dbi: MDB_dbi = 0
                rc = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi)
                guard rc == 0 else { break }
                dbis.append(dbi)
            }
            if rc == 0 { rc = mdb_txn_commit(txn) } else { mdb_txn_abort(txn) }
        }
        guard rc == 0 else {
            mdb_env_close(env)
            throw .cannotOpen(path, rc: rc)
        }
        self.path = path
        self.env = env
        self.databases = dbis
    }

    deinit { close() }

    /// Refuses new calls ("closed" error), waits for calls in progress on other threads, then
    /// closes the environment. Later calls return at once.
    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        while true {
            let idle: [ReadTxn]? = state.withLock { state in
                guard state.inFlight == 0 else { return nil }
                defer { state.idleReaders = [] }
                return state.idleReaders
            }
            if let idle {
                for txn in idle { mdb_txn_abort(txn.handle) }
                break
            }
            usleep(100)  // only at shutdown, while another thread finishes a lookup or a commit
        }
        mdb_env_close(env)
    }

    /// Reset read transactions waiting for reuse (for tests and diagnostics).
    var idleReaderCount: Int { state.withLock { $0.idleReaders.count } }

    // MARK: Transactions

    /// Runs `body` in a read-only snapshot taken now. Values returned by `get` point into the
    /// memory map and are valid only inside `body`: copy (decode) them out.
    func read<R>(_ action: String, _ body: (OpaquePointer) throws(KeyStoreError) -> R) throws(KeyStoreError) -> R {
        let pooled: ReadTxn?? = state.withLock { state in
            guard !state.closed else { return .none }
            state.inFlight += 1
            return .some(state.idleReaders.popLast())
        }
        guard let pooled else { throw .closed(path) }
        let txn: OpaquePointer
        do throws(KeyStoreError) {
            txn = try renewOrBegin(pooled, action)
        } catch {
            state.withLock { $0.inFlight -= 1 }
            throw error
        }
        defer {
            mdb_txn_reset(txn)
            let keep = state.withLock { state in
                state.inFlight -= 1
                guard state.idleReaders.count < Self.maxIdleReaders else { return false }
                state.idleReaders.append(ReadTxn(handle: txn))
                return true
            }
            if !keep { mdb_txn_abort(txn) }
        }
        return try body(txn)
    }

    private func renewOrBegin(_ pooled: ReadTxn?, _ action: String) throws(KeyStoreError) -> OpaquePointer {
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

    /// Runs `body` in a write transaction and commits it durably (default flags: fsync before
    /// returning) if `body` returns `commit: true`; aborts otherwise, and on any error. Writers
    /// wait for each other, across threads and processes.
    func write<R>(_ action: String, _ body: (OpaquePointer) throws(KeyStoreError) -> (commit: Bool, result: R)) throws(KeyStoreError) -> R {
        let entered = state.withLock { state in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
        guard entered else { throw .closed(path) }
        defer { state.withLock { $0.inFlight -= 1 } }

        var handle: OpaquePointer?
        let rc = mdb_txn_begin(env, nil, 0, &handle)
        guard rc == 0, let txn = handle else { throw .storage(path, action, rc: rc) }
        let outcome: (commit: Bool, result: R)
        do throws(KeyStoreError) {
            outcome = try body(txn)
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        guard outcome.commit else {
            mdb_txn_abort(txn)
            return outcome.result
        }
        let commit = mdb_txn_commit(txn)  // frees the transaction whatever the result
        guard commit == 0 else { throw .storage(path, action, rc: commit) }
        return outcome.result
    }

    // MARK: Record access inside a transaction

    /// The value stored under `key`, nil if absent; throws on any other LMDB error.
    func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ action: String) throws(KeyStoreError) -> UnsafeRawBufferPointer? {
        var v = MDB_val()
        let rc = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_get(txn, dbi, &k, &v)
        }
        if rc == MDB_NOTFOUND { return nil }
        guard rc == 0 else { throw .storage(path, action, rc: rc) }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Stores `value` under `key`. With `overwrite: false`, returns false (and writes nothing) if
    /// the key exists.
    func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8],
             overwrite: Bool, _ action: String) throws(KeyStoreError) -> Bool {
        let rc = key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                return mdb_put(txn, dbi, &k, &v, overwrite ? 0 : UInt32(MDB_NOOVERWRITE))
            }
        }
        if rc == MDB_KEYEXIST && !overwrite { return false }
        guard rc == 0 else { throw .storage(path, action, rc: rc) }
        return true
    }

    /// Calls `body` with every value of `dbi`, in key order.
    func forEachValue(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ action: String,
                      _ body: (UnsafeRawBufferPointer) throws(KeyStoreError) -> Void) throws(KeyStoreError) {
        var cursorHandle: OpaquePointer?
        var rc = mdb_cursor_open(txn, dbi, &cursorHandle)
        guard rc == 0, let cursor = cursorHandle else { throw .storage(path, action, rc: rc) }
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == 0 {
            try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        guard rc == MDB_NOTFOUND else { throw .storage(path, action, rc: rc) }
    }
}
