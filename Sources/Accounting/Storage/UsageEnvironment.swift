import CLMDB
import Glibc
import LMDBSupport
import Synchronization

/// The usage LMDB environment (`<data>/usage/`) and its named databases. Transactions, record
/// access and the in-flight gate are `LMDBEnvironment`'s (its doc has the thread-safety argument);
/// what is particular to the usage store is here: group commit and page release.
///
/// Opened with `MDB_NOSYNC` unless asked to be synchronous: a commit then writes its pages and
/// meta page into the OS page cache (`write`, ~7 µs here) without `fsync` (~6 ms here), and
/// `sync()` — called by `Accountant`'s background thread — flushes everything committed so far.
/// A process crash loses nothing committed (the page cache belongs to the kernel); a power loss or
/// kernel crash loses at most the commits since the last `sync()`. LMDB stays consistent either
/// way: the meta page that makes a commit visible is written after its data pages.
typealias UsageEnvironment = LMDBEnvironment<UsageErrors>

extension LMDBEnvironment where Errors == UsageErrors {
    /// Opens (creating if needed) the usage environment in `path`. Closing it flushes to disk.
    convenience init(path: String, mapSize: Int, maxReaders: UInt32, synchronous: Bool, writeMap: Bool,
                     databaseNames: [String]) throws(AccountingError) {
        // MDB_NOTLS (always set by LMDBEnvironment): read transactions are not tied to threads
        // (queries run on any thread).
        var flags: UInt32 = 0
        if !synchronous { flags |= UInt32(MDB_NOSYNC) }
        if writeMap { flags |= UInt32(MDB_WRITEMAP) }
        try self.init(path: path, mapSize: mapSize, maxReaders: maxReaders, flags: flags, databaseNames: databaseNames,
                      beforeClose: { env in _ = mdb_env_sync(env, 1) })
    }

    /// Flushes every committed transaction to disk (`fsync`). The group commit.
    func sync() throws(AccountingError) {
        try withEnvironment { env throws(AccountingError) in
            let rc = mdb_env_sync(env, 1)
            guard rc == 0 else { throw .storage(path, "sync", rc: rc) }
        }
    }
}

/// Releases the usage map's pages from this process's memory after writes.
///
/// `@unchecked Sendable`: the map's address and length are fixed in `init` and only passed to
/// `madvise`; the only mutable state, the last transaction released, is an `Atomic`.
final class ResidentPages: @unchecked Sendable {
    /// Where LMDB mapped `data.mdb` (LMDB reports it only for `MDB_FIXEDMAP`, so it is looked up
    /// in `/proc/self/maps`); nil when it cannot be found, and pages are then never released.
    private let map: (base: UnsafeMutableRawPointer, length: Int)?
    /// The last committed transaction when the pages were last released (see `release`).
    private let releasedAfter = Atomic<Int>(-1)

    /// Finds the map of `environment` (opened: LMDB maps the file in `mdb_env_open`).
    init(of environment: UsageEnvironment) {
        map = Self.mapping(of: environment.path + "/data.mdb")
    }

    /// Drops the map's pages from this process's address space if anything was committed since
    /// the last time. Without this, every page ever written or recycled stays mapped, and RSS
    /// grows with the ledger (~200 B per request) though the pages are only page cache. Pages
    /// still in use (the trees' upper levels, the limiter state) fault back in from the page
    /// cache, a minor fault each; nothing is lost, since the mapping is shared with the file.
    /// Called after each sync (every 100 ms), so the pages are clean and the resident set stays
    /// within what 100 ms of traffic touches. The cost grows with the pages resident, not with
    /// the file.
    func release(_ environment: UsageEnvironment) {
        try? environment.withEnvironment { env throws(AccountingError) in
            var info = MDB_envinfo()
            var stat = MDB_stat()
            guard let map, mdb_env_info(env, &info) == 0, mdb_env_stat(env, &stat) == 0 else { return }
            let txn = Int(info.me_last_txnid)
            guard txn != releasedAfter.load(ordering: .relaxed) else { return }
            releasedAfter.store(txn, ordering: .relaxed)
            let used = (Int(info.me_last_pgno) + 1) * Int(stat.ms_psize)
            _ = madvise(map.base, min(used, map.length), MADV_DONTNEED)
        }
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
}
