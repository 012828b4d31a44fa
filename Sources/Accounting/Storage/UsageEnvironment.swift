import CLMDB
import Glibc
import Synchronization

/// Owner of the usage LMDB environment (`<data>/usage/`) and its named databases.
///
/// Opened with `MDB_NOSYNC` unless asked to be synchronous: a commit then writes its pages and
/// meta page into the OS page cache (`write`, ~7 µs here) without `fsync` (~6 ms here), and
/// `sync()` — called by `Accountant`'s background thread — flushes everything committed so far.
/// A process crash loses nothing committed (the page cache belongs to the kernel); a power loss or
/// kernel crash loses at most the commits since the last `sync()`. LMDB stays consistent either
/// way: the meta page that makes a commit visible is written after its data pages.
///
/// `@unchecked Sendable`: the environment pointer, path and dbi handles are fixed in `init`; LMDB
/// allows one environment to be used from many threads — read transactions (`MDB_NOTLS`) are
/// begun and ended inside one call, a write transaction is begun, used and committed inside one
/// call on one thread, and LMDB's writer mutex serializes writers across threads and processes.
/// The only mutable state (in-flight count, closed flag) is inside a `Mutex`.
final class UsageEnvironment: @unchecked Sendable {
    let path: String
    let databases: [MDB_dbi]
    private let env: OpaquePointer
    /// Where LMDB mapped `data.mdb` (LMDB reports it only for `MDB_FIXEDMAP`, so it is looked up
    /// in `/proc/self/maps`); nil when it cannot be found, and pages are then never released.
    private let map: (base: UnsafeMutableRawPointer, length: Int)?

    private struct State {
        var closed = false
        /// Calls between enter and leave; `close` waits for them (closing under a live
        /// transaction is undefined behaviour).
        var inFlight = 0
    }
    private let state = Mutex(State())
    /// Bytes of the map in use when its pages were last released (see `releaseResidentPages`).
    private let releasedAt = Atomic<Int>(0)

    init(path: String, mapSize: Int, maxReaders: UInt32, synchronous: Bool, writeMap: Bool,
         databaseNames: [String]) throws(AccountingError) {
        var handle: OpaquePointer?
        var rc = mdb_env_create(&handle)
        guard rc == 0, let env = handle else { throw .cannotOpen(path, rc: rc) }
        rc = mdb_env_set_mapsize(env, mapSize)
        if rc == 0 { rc = mdb_env_set_maxdbs(env, MDB_dbi(databaseNames.count + 2)) }
        if rc == 0 { rc = mdb_env_set_maxreaders(env, maxReaders) }
        // MDB_NOTLS: read transactions are not tied to threads (queries run on any thread).
        var flags = UInt32(MDB_NOTLS)
        if !synchronous { flags |= UInt32(MDB_NOSYNC) }
        if writeMap { flags |= UInt32(MDB_WRITEMAP) }
        if rc == 0 { rc = mdb_env_open(env, path, flags, 0o600) }
        guard rc == 0 else {
            mdb_env_close(env)
            throw .cannotOpen(path, rc: rc)
        }
        // Reader slots of processes that died inside a read transaction.
        var dead: Int32 = 0
        _ = mdb_reader_check(env, &dead)

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
        self.map = Self.mapping(of: path + "/data.mdb")
    }

    deinit { close() }

    /// Refuses new calls, waits for calls in progress, flushes to disk, closes. Idempotent.
    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        while state.withLock({ $0.inFlight }) != 0 { usleep(100) }  // shutdown only
        _ = mdb_env_sync(env, 1)
        mdb_env_close(env)
    }

    private func enter() throws(AccountingError) {
        let entered = state.withLock { state in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
        guard entered else { throw .closed(path) }
    }

    private func leave() { state.withLock { $0.inFlight -= 1 } }

    /// Flushes every committed transaction to disk (`fsync`). The group commit.
    func sync() throws(AccountingError) {
        try enter()
        defer { leave() }
        let rc = mdb_env_sync(env, 1)
        guard rc == 0 else { throw .storage(path, "sync", rc: rc) }
    }

    /// Drops the map's pages from this process's address space once the store has grown by
    /// `growth` bytes since the last time. The ledger is append-only and cold: without this,
    /// every page ever written stays mapped, and RSS grows with the ledger (~200 B per request)
    /// though the pages are only page cache. Pages still in use fault back in from the page cache
    /// (a minor fault); nothing is lost, since the mapping is shared with the file. Call after a
    /// sync, so the pages are clean.
    func releaseResidentPages(growth: Int) {
        do { try enter() } catch { return }
        defer { leave() }
        var info = MDB_envinfo()
        var stat = MDB_stat()
        guard let map, mdb_env_info(env, &info) == 0, mdb_env_stat(env, &stat) == 0 else { return }
        let used = (Int(info.me_last_pgno) + 1) * Int(stat.ms_psize)
        guard used - releasedAt.load(ordering: .relaxed) >= growth else { return }
        releasedAt.store(used, ordering: .relaxed)
        _ = madvise(map.base, min(used, map.length), MADV_DONTNEED)
    }

    /// The largest mapping of `file` in this process, from `/proc/self/maps`
    /// (`start-end perms offset dev inode path` per line). Bytes, not Strings: the file has a
    /// line per mapping, and only the lines ending in `file` are parsed.
    static func mapping(of file: String) -> (base: UnsafeMutableRawPointer, length: Int)? {
        let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Glibc.read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            text.append(contentsOf: chunk[0..<n])
        }
        let suffix = Array((" " + file).utf8)
        var best: (base: UnsafeMutableRawPointer, length: Int)?
        var lineStart = 0
        while lineStart < text.count {
            let lineEnd = text[lineStart...].firstIndex(of: 0x0A) ?? text.count
            defer { lineStart = lineEnd + 1 }
            guard lineEnd - lineStart > suffix.count, text[(lineEnd - suffix.count)..<lineEnd].elementsEqual(suffix),
                  let dash = text[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: "-")),
                  let space = text[dash..<lineEnd].firstIndex(of: 0x20),
                  let start = hex(text[lineStart..<dash]), let end = hex(text[(dash + 1)..<space]), end > start,
                  let base = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            let length = Int(end - start)
            if length > (best?.length ?? 0) { best = (base, length) }
        }
        return best
    }

    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt = 0
        for c in digits {
            switch c {
            case 0x30...0x39: value = value << 4 | UInt(c - 0x30)
            case 0x61...0x66: value = value << 4 | UInt(c - 0x61 + 10)
            default: return nil
            }
        }
        return value
    }

    // MARK: Transactions

    /// Runs `body` in a read-only snapshot. Values from `get` point into the map: copy them out.
    func read<R>(_ action: String, _ body: (OpaquePointer) throws(AccountingError) -> R) throws(AccountingError) -> R {
        try enter()
        defer { leave() }
        var handle: OpaquePointer?
        let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &handle)
        guard rc == 0, let txn = handle else { throw .storage(path, action, rc: rc) }
        defer { mdb_txn_abort(txn) }
        return try body(txn)
    }

    /// Runs `body` in a write transaction; commits if it returns `commit: true`, aborts otherwise
    /// and on error. Writers wait for each other across threads and processes.
    func write<R>(_ action: String, _ body: (OpaquePointer) throws(AccountingError) -> (commit: Bool, result: R)) throws(AccountingError) -> R {
        try enter()
        defer { leave() }
        var handle: OpaquePointer?
        let rc = mdb_txn_begin(env, nil, 0, &handle)
        guard rc == 0, let txn = handle else { throw .storage(path, action, rc: rc) }
        let outcome: (commit: Bool, result: R)
        do throws(AccountingError) {
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

    // MARK: Access inside a transaction

    func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ action: String) throws(AccountingError) -> UnsafeRawBufferPointer? {
        var v = MDB_val()
        let rc = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_get(txn, dbi, &k, &v)
        }
        if rc == MDB_NOTFOUND { return nil }
        guard rc == 0 else { throw .storage(path, action, rc: rc) }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], _ action: String) throws(AccountingError) {
        let rc = key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                return mdb_put(txn, dbi, &k, &v, 0)
            }
        }
        guard rc == 0 else { throw .storage(path, action, rc: rc) }
    }

    /// Deletes `key`; false if it was absent.
    @discardableResult
    func delete(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ action: String) throws(AccountingError) -> Bool {
        let rc = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_del(txn, dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        guard rc == 0 else { throw .storage(path, action, rc: rc) }
        return true
    }

    /// Calls `body(key, value)` for each entry with key ≥ `from` (all entries if `from` is empty)
    /// in key order, until `body` returns false.
    func scan(_ txn: OpaquePointer, _ dbi: MDB_dbi, from: [UInt8], _ action: String,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(AccountingError) -> Bool) throws(AccountingError) {
        var cursorHandle: OpaquePointer?
        var rc = mdb_cursor_open(txn, dbi, &cursorHandle)
        guard rc == 0, let cursor = cursorHandle else { throw .storage(path, action, rc: rc) }
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
        guard rc == MDB_NOTFOUND else { throw .storage(path, action, rc: rc) }
    }
}
