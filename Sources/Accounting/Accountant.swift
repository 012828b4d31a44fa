import CLMDB
import Glibc
import LMDBSupport
import Synchronization

/// Limits, reservations and the usage ledger of one data folder: the gateway's accounting.
///
/// Everything lives in one LMDB environment in `<data>/usage/`, separate from the keys
/// environment because it is opened with `MDB_NOSYNC` (an environment-wide flag) while key writes
/// must be durable at once. Several processes on one host may open the same folder (gateways, the
/// CLI): every decision is one LMDB write transaction, and LMDB serializes writers across threads
/// and processes, so counters are shared exactly. One process must open a folder only once
/// (LMDB forbids two environments on the same files in one process), and never use it across
/// `fork()`.
///
/// Durability (group commit): commits are not fsynced one by one. A background thread calls
/// `mdb_env_sync` every `Options.syncIntervalMillis` (default 100 ms). A `kill -9` of a process
/// loses nothing it committed — committed pages are in the kernel's page cache; a power loss or
/// kernel crash loses at most the last sync interval of commits (admissions, settlements and
/// records alike), and the store stays consistent. `syncIntervalMillis = 0` makes every commit
/// synchronous (~6 ms each here) instead.
///
/// Crashed processes: reservations carry their owner (pid + process start time); on open and
/// every `Options.sweepIntervalMillis`, reservations whose owner is gone are released *without
/// charging them* — the request got no complete response (a crash mid-response is not a
/// completed request); its tokens are lost to accounting, as its record is.
///
/// Plain `Sendable`: immutable stored properties; the environment, the page releaser and the
/// worker carry their own justified `@unchecked`.
public final class Accountant: Sendable {
    public struct Options: Sendable {
        /// Group-commit period: how much a power loss may lose. 0: fsync every commit.
        public var syncIntervalMillis: Int = 100
        /// How often reservations of dead processes are swept (also once at open). 0: only at open.
        public var sweepIntervalMillis: Int = 10_000
        /// Address space reserved for the store; the file grows only as used. Every process
        /// sharing the folder should use the same value. ~150 bytes per request record.
        public var mapSize: Int = 16 << 30
        public var maxReaders: UInt32 = 256
        /// Commit by writing into the shared map (`MDB_WRITEMAP`) instead of one `pwrite` per
        /// dirty page (12.8 `pwrite` calls per gateway request before, none after; `strace -c`,
        /// BENCHMARKS.md). The data file is then sized to
        /// `mapSize` up front (sparse: it takes only the blocks in use), and a disk that fills
        /// up stops the process (`SIGBUS`) instead of failing the commit. Every process sharing
        /// the folder should use the same value.
        public var writeMap = true
        /// Release the store's pages from this process's memory at each sync when anything was
        /// written since the last one, so RSS does not grow with the ledger.
        public var releasePages = true
        public var tokenRule: TokenAdmissionRule = .belowLimit

        public init() {}
    }

    public static let environmentFolder = "usage"

    /// The data folder (the environment is its `usage/`).
    public let directory: String
    public let clock: any WallClock
    public let options: Options
    let environment: UsageEnvironment
    private let pages: ResidentPages
    let owner: ProcessIdentity
    private let worker: PeriodicWorker?

    var db: [MDB_dbi] { environment.databases }

    public init(directory: String, clock: any WallClock = SystemClock(), options: Options = Options()) throws(AccountingError) {
        guard !directory.isEmpty else { throw .invalidArgument("the data folder must not be empty") }
        guard options.syncIntervalMillis >= 0, options.sweepIntervalMillis >= 0 else {
            throw .invalidArgument("sync and sweep intervals must not be negative")
        }
        self.directory = directory
        self.clock = clock
        self.options = options
        owner = ProcessIdentity.current
        let path = directory.hasSuffix("/") ? directory + Self.environmentFolder : directory + "/" + Self.environmentFolder
        try Self.makeFolders(path)
        let env = try UsageEnvironment(path: path, mapSize: options.mapSize, maxReaders: options.maxReaders,
                                       synchronous: options.syncIntervalMillis == 0, writeMap: options.writeMap,
                                       databaseNames: Layout.names)
        environment = env
        let pages = ResidentPages(of: env)
        self.pages = pages
        _ = try Self.sweep(env)

        let syncEvery = options.syncIntervalMillis
        let sweepEvery = options.sweepIntervalMillis
        guard syncEvery > 0 || sweepEvery > 0 else { worker = nil; return }
        // One thread for both chores: tick at the sync period (or the sweep period if synchronous)
        // and sweep every so many ticks.
        let period = syncEvery > 0 ? syncEvery : sweepEvery
        let sweepTicks = sweepEvery == 0 ? 0 : max(1, sweepEvery / period)
        let counter = TickCounter()
        let releasePages = options.releasePages
        worker = PeriodicWorker(intervalMillis: period) {
            if syncEvery > 0 { try? env.sync() }
            if releasePages { pages.release(env) }
            if sweepTicks > 0, counter.next() % sweepTicks == 0 { _ = try? Self.sweep(env) }
        }
    }

    /// Stops the background thread, flushes to disk and closes. Later calls fail with "closed".
    public func close() {
        worker?.stop()
        environment.close()
    }

    deinit { close() }

    /// Releases the store's pages from this process's memory if it has grown by `growth` bytes
    /// if anything was committed since the last release (done at every sync with
    /// `Options.releasePages`).
    func releaseResidentPages() { pages.release(environment) }

    /// Flushes every commit so far to disk now (also done every `syncIntervalMillis`).
    public func sync() throws(AccountingError) { try environment.sync() }

    /// Releases reservations whose owning process has exited; returns how many. Runs on open and
    /// periodically; exposed for tests and the CLI.
    @discardableResult
    public func sweepDeadReservations() throws(AccountingError) -> Int { try Self.sweep(environment) }

    /// Finds dead owners with a read transaction (cheap when there are none), then deletes their
    /// reservations in one write transaction, re-reading each (another process may have swept or
    /// settled it meanwhile).
    static func sweep(_ env: UsageEnvironment) throws(AccountingError) -> Int {
        let dbi = env.databases
        var owners: [ProcessIdentity: Bool] = [:]
        var dead: [UInt64] = []
        try env.read("scan reservations") { txn throws(AccountingError) in
            try env.scan(txn, dbi[Layout.reservations], from: [], "scan reservations") { key, value throws(AccountingError) in
                var k = ByteReader(key)
                guard let id = k.uint64BE(), let (_, owner) = Layout.decodeReservation(id: id, value) else {
                    throw .corruptRecord(env.path, "reservation")
                }
                let alive: Bool
                if let known = owners[owner] { alive = known } else {
                    alive = owner.isAlive
                    owners[owner] = alive
                }
                if !alive { dead.append(id) }
                return true
            }
        }
        guard !dead.isEmpty else { return 0 }
        return try env.write("release reservations of exited processes") { txn throws(AccountingError) in
            var released = 0
            for id in dead {
                let key = Layout.reservationKey(id)
                guard let value = try env.get(txn, dbi[Layout.reservations], key, "read reservation"),
                      let (reservation, _) = Layout.decodeReservation(id: id, value) else { continue }
                try env.delete(txn, dbi[Layout.reservations], key, "delete reservation")
                try release(env, txn, reservation)
                released += 1
            }
            return (true, released)
        }
    }

    /// Takes a reservation's tokens off its day's `reserved` (inside a write transaction).
    static func release(_ env: UsageEnvironment, _ txn: OpaquePointer, _ r: Reservation) throws(AccountingError) {
        let dbi = env.databases[Layout.allowance]
        let key = Layout.allowanceKey(r.keyID, r.day)
        var state = try readState(env, txn, key)
        state.reservedTokens = max(0, state.reservedTokens - r.tokens)
        state.requestsInFlight = max(0, state.requestsInFlight - 1)
        try env.put(txn, dbi, key, Layout.encode(state), "release reservation")
    }

    static func readState(_ env: UsageEnvironment, _ txn: OpaquePointer, _ key: [UInt8]) throws(AccountingError) -> DailyTokenState {
        guard let raw = try env.get(txn, env.databases[Layout.allowance], key, "read allowance") else { return DailyTokenState() }
        guard let state = Layout.decodeState(raw) else { throw .corruptRecord(env.path, "allowance") }
        return state
    }

    /// A new id for a reservation or a record: the id of the write transaction taking it. LMDB
    /// numbers write transactions in one increasing sequence per environment, across every
    /// process sharing the folder, and each transaction takes at most one id, so ids are unique
    /// without a shared counter to read and write (that counter cost a lookup and a B-tree write
    /// per request). Ids the counter handed out earlier never exceed the transaction they were
    /// taken in, so they cannot collide with later transaction ids.
    func newID(_ txn: OpaquePointer) -> UInt64 {
        UInt64(mdb_txn_id(txn))
    }

    private static func makeFolders(_ path: String) throws(AccountingError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw .cannotCreateFolder(prefix, errno: errno) }
        }
    }
}

/// Tick numbers for the worker thread (only that thread touches it, but the closure must be
/// Sendable).
private final class TickCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
