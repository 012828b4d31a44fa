import CLMDB
import Glibc
import Synchronization

/// A small owner of one LMDB environment and its named sub-databases, shared by the key store and
/// the usage store: opening, a gate that makes `close` wait for calls in progress, read and write
/// transactions, and record access inside them. What differs stays in each store's module: the
/// key store pools its read transactions and commits synchronously; the usage store commits with
/// `MDB_NOSYNC` (group commit) and releases its map's pages.
///
/// `Errors` makes the store's own error type, `Failure` (see `LMDBErrorFactory`): every method
/// throws it, so the closures given to `read` and `write` throw the store's failures through
/// unchanged.
///
/// `@unchecked Sendable`: the environment pointer, path, dbi handles and close hook are set in
/// `init` and never change; LMDB allows one environment to be used from many threads (read
/// transactions with `MDB_NOTLS` are not tied to a thread and may move between threads; a write
/// transaction is begun, used and committed inside one call on one thread, and LMDB's writer mutex
/// serializes writers across threads and processes). The only mutable state (in-flight count,
/// closed flag) is inside a `Mutex`.
///
/// The methods on the request path are `@inlinable`: each store's module specializes and inlines
/// them, as when they were its own code. (`public`, not `package`: with `package` access the
/// release build called the generic, unspecialized bodies instead — seen with Swift 6.3.)
public final class LMDBEnvironment<Errors: LMDBErrorFactory>: @unchecked Sendable {
    public typealias Failure = Errors.Failure

    public let path: String
    /// dbi handles in the order of the names given to `init`; valid until `close`.
    public let databases: [MDB_dbi]
    @usableFromInline let env: OpaquePointer
    private let beforeClose: @Sendable (OpaquePointer) -> Void

    @usableFromInline struct State {
        @usableFromInline var closed = false
        /// Calls inside `withEnvironment`: `close` waits for them, since closing the environment
        /// under a live transaction is undefined behaviour.
        @usableFromInline var inFlight = 0
        @usableFromInline init() {}
    }
    @usableFromInline let state = Mutex(State())

    /// Opens (creating if needed) the environment in directory `path` and the named sub-databases.
    ///
    /// `flags` are added to `MDB_NOTLS`, which is always set: read transactions are then not tied
    /// to threads, as the `Sendable` argument above requires. `beforeClose` runs once, in `close`,
    /// after the last call in progress has returned and before the environment is closed.
    public init(path: String, mapSize: Int, maxReaders: UInt32, flags: UInt32, databaseNames: [String],
                beforeClose: @escaping @Sendable (OpaquePointer) -> Void = { _ in }) throws(Failure) {
        var handle: OpaquePointer?
        var rc = mdb_env_create(&handle)
        guard rc == 0, let env = handle else { throw Errors.cannotOpen(path, rc: rc) }
        rc = mdb_env_set_mapsize(env, mapSize)
        if rc == 0 { rc = mdb_env_set_maxdbs(env, MDB_dbi(databaseNames.count + 2)) }
        if rc == 0 { rc = mdb_env_set_maxreaders(env, maxReaders) }
        if rc == 0 { rc = mdb_env_open(env, path, UInt32(MDB_NOTLS) | flags, 0o600) }
        guard rc == 0 else {
            mdb_env_close(env)
            throw Errors.cannotOpen(path, rc: rc)
        }
        // Free reader slots left by processes that died with a read transaction open (a crashed
        // server with a full pool of read transactions would otherwise hold its slots forever).
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
            throw Errors.cannotOpen(path, rc: rc)
        }
        self.path = path
        self.env = env
        self.databases = dbis
        self.beforeClose = beforeClose
    }

    deinit { close() }

    /// Refuses new calls ("closed" error), waits for calls in progress on other threads, runs
    /// `beforeClose`, then closes the environment. Later calls return at once.
    public func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        // Only at shutdown, while another thread finishes a read or a commit.
        while state.withLock({ $0.inFlight }) != 0 { usleep(100) }
        beforeClose(env)
        mdb_env_close(env)
    }

    /// Runs `body` with the `MDB_env` handle as a call in progress: `close` waits until it
    /// returns. After `close`, throws the "closed" failure instead. For what the methods below do
    /// not cover (a pool of read transactions, `mdb_env_sync`, `mdb_env_info`).
    @inlinable
    public func withEnvironment<R>(_ body: (OpaquePointer) throws(Failure) -> R) throws(Failure) -> R {
        let entered = state.withLock { state in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
        guard entered else { throw Errors.closed(path) }
        defer { state.withLock { $0.inFlight -= 1 } }
        return try body(env)
    }

    // MARK: Transactions

    /// Runs `body` in a read-only snapshot taken now: it sees every commit made until that
    /// moment, by this process or another. Values returned by `get` point into the memory map and
    /// are valid only inside `body`: copy (decode) them out.
    @inlinable
    public func read<R>(_ action: String, _ body: (OpaquePointer) throws(Failure) -> R) throws(Failure) -> R {
        try withEnvironment { env throws(Failure) in
            var handle: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &handle)
            guard rc == 0, let txn = handle else { throw Errors.storage(path, action, rc: rc) }
            defer { mdb_txn_abort(txn) }
            return try body(txn)
        }
    }

    /// Runs `body` in a write transaction and commits it if `body` returns `commit: true`; aborts
    /// otherwise, and on any error. Writers wait for each other, across threads and processes.
    ///
    /// How durable a commit is depends on the environment's flags: by default it is fsynced
    /// before `write` returns; with `MDB_NOSYNC` it reaches the kernel's page cache only, and is
    /// on disk after the next `mdb_env_sync`.
    @inlinable
    public func write<R>(_ action: String, _ body: (OpaquePointer) throws(Failure) -> (commit: Bool, result: R)) throws(Failure) -> R {
        try withEnvironment { env throws(Failure) in
            var handle: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, 0, &handle)
            guard rc == 0, let txn = handle else { throw Errors.storage(path, action, rc: rc) }
            let outcome: (commit: Bool, result: R)
            do throws(Failure) {
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
            guard commit == 0 else { throw Errors.storage(path, action, rc: commit) }
            return outcome.result
        }
    }

    // MARK: Record access inside a transaction

    /// The value stored under `key`, nil if absent; throws on any other LMDB error.
    @inlinable
    public func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ action: String) throws(Failure) -> UnsafeRawBufferPointer? {
        var v = MDB_val()
        let rc = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_get(txn, dbi, &k, &v)
        }
        if rc == MDB_NOTFOUND { return nil }
        guard rc == 0 else { throw Errors.storage(path, action, rc: rc) }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Stores `value` under `key`. With `overwrite: false`, returns false (and writes nothing) if
    /// the key exists.
    @inlinable @discardableResult
    public func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8],
                    overwrite: Bool = true, _ action: String) throws(Failure) -> Bool {
        let rc = key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                return mdb_put(txn, dbi, &k, &v, overwrite ? 0 : UInt32(MDB_NOOVERWRITE))
            }
        }
        if rc == MDB_KEYEXIST && !overwrite { return false }
        guard rc == 0 else { throw Errors.storage(path, action, rc: rc) }
        return true
    }

    /// Deletes `key`; false if it was absent.
    @inlinable @discardableResult
    public func delete(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ action: String) throws(Failure) -> Bool {
        let rc = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_del(txn, dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        guard rc == 0 else { throw Errors.storage(path, action, rc: rc) }
        return true
    }

    /// Calls `body(key, value)` for each entry with key ≥ `from` (all entries if `from` is empty)
    /// in key order, until `body` returns false.
    @inlinable
    public func scan(_ txn: OpaquePointer, _ dbi: MDB_dbi, from: [UInt8], _ action: String,
                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(Failure) -> Bool) throws(Failure) {
        var cursorHandle: OpaquePointer?
        var rc = mdb_cursor_open(txn, dbi, &cursorHandle)
        guard rc == 0, let cursor = cursorHandle else { throw Errors.storage(path, action, rc: rc) }
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        if from.isEmpty {
            rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        } else {
            rc = from.withUnsafeBytes { start in
                k = MDB_val(mv_size: start.count, mv_data: UnsafeMutableRawPointer(mutating: start.baseAddress))
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
        }
        while rc == 0 {
            let more = try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            guard more else { return }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        guard rc == MDB_NOTFOUND else { throw Errors.storage(path, action, rc: rc) }
    }
}
