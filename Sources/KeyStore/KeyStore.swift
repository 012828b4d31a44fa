import CLMDB
import Glibc
import LMDBSupport
import SHA256

/// The gateway's API keys, kept in LMDB as SHA-256 hashes of their secrets.
///
/// Data folder layout (`directory` is the gateway's data folder):
///
///     <directory>/keys/data.mdb, lock.mdb   this store: sub-databases `key_by_hash`, `hash_by_id`
///     <directory>/usage/                    reserved for the usage counters (their own
///                                           environment: counters commit with MDB_NOSYNC, an
///                                           environment-wide flag, while keys must be durable)
///
/// `key_by_hash`: SHA-256(secret), 32 bytes → record (`RecordCoding`).
/// `hash_by_id`:  id (UTF-8)              → SHA-256(secret), for `revoke` by id.
///
/// Several processes may have the folder open at once (the server and `switchyard keys …`);
/// every `lookup` reads a fresh snapshot, so a key created or revoked by the CLI counts on the
/// server's next request. Never use one instance across `fork()`; one process should open a
/// folder once (LMDB forbids two environments on the same files in one process).
///
/// Plain (checked) `Sendable`: the stored properties are immutable, and the types holding C
/// pointers, `LMDBEnvironment` and `ReadTxn`, carry the `@unchecked` and its justification.
public final class KeyStore: Sendable {
    /// The data folder this store was opened in (the environment lives in its `keys/`).
    public let directory: String
    /// Writes go through `environment.write`; reads through `readers.read`, in pooled transactions.
    let environment: KeyEnvironment
    let readers: ReaderPool
    /// Keys found since the store last changed (`RecentKeys`): most requests skip the read.
    let recent = RecentKeys()

    /// Longest input `lookup` hashes: a prefix (≤ 64) + 43 digits fits well inside; longer
    /// header values are refused without hashing them.
    public static let maxSecretLength = 256
    static let maxPrefixLength = 64
    static let maxPlanBytes = 256
    static let maxNameBytes = 1024

    /// Plenty for keys (a record is under 100 bytes); the file grows only as used.
    static let mapSize = 1 << 30
    /// Reader slots in the lock file, shared by all processes: each server keeps up to
    /// `ReaderPool.maxIdleReaders` of them, the CLI one.
    static let maxReaders: UInt32 = 512

    static let environmentFolder = "keys"
    static let keyByHashName = "key_by_hash"
    static let hashByIDName = "hash_by_id"

    private var keyByHash: MDB_dbi { environment.databases[0] }
    private var hashByID: MDB_dbi { environment.databases[1] }

    /// Opens the store in `directory`, creating the folder and the environment if missing.
    public init(directory: String) throws(KeyStoreError) {
        guard !directory.isEmpty else { throw .invalidArgument("the key store folder must not be empty") }
        self.directory = directory
        let path = directory.hasSuffix("/") ? directory + Self.environmentFolder
                                            : directory + "/" + Self.environmentFolder
        try Self.makeFolders(path)
        let readers = ReaderPool()
        self.readers = readers
        // MDB_NOTLS (always set by LMDBEnvironment): the server looks keys up from many threads
        // and read transactions are pooled across them. No MDB_NOSYNC/MDB_WRITEMAP: key writes
        // are rare and must survive a crash. The pooled transactions are aborted at close.
        environment = try KeyEnvironment(path: path, mapSize: Self.mapSize, maxReaders: Self.maxReaders, flags: 0,
                                         databaseNames: [Self.keyByHashName, Self.hashByIDName],
                                         beforeClose: { _ in readers.drain() })
    }

    /// Closes the environment (after calls in progress on other threads finish); later calls
    /// fail with a "closed" error, `lookup` returns nil. Calling it again does nothing.
    public func close() { environment.close() }

    deinit { environment.close() }

    // MARK: Writes (CLI; durable commits)

    /// Makes a new key. The secret is returned once and never stored: show it to the user now.
    public func create(plan: String, name: String, prefix: String, rpmOverride: Int? = nil,
                       dailyTokensOverride: Int? = nil) throws(KeyStoreError) -> (record: KeyRecord, secret: String) {
        guard !plan.isEmpty else { throw .invalidArgument("a key needs a plan") }
        guard plan.utf8.count <= Self.maxPlanBytes else {
            throw .invalidArgument("plan name is longer than \(Self.maxPlanBytes) bytes")
        }
        guard name.utf8.count <= Self.maxNameBytes else {
            throw .invalidArgument("key name is longer than \(Self.maxNameBytes) bytes")
        }
        guard prefix.utf8.count <= Self.maxPrefixLength else {
            throw .invalidArgument("key prefix \"\(prefix)\" is longer than \(Self.maxPrefixLength) bytes")
        }
        // Secrets travel in headers and URLs: keep them to visible ASCII.
        guard prefix.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidArgument("key prefix \"\(prefix)\" may contain only visible ASCII characters (no spaces)")
        }
        // Limits are at least 1 where they are enforced, so 0 would silently mean 1.
        if let rpmOverride, rpmOverride < 1 {
            throw .invalidArgument("requests-per-minute override must be at least 1 (got \(rpmOverride)); to stop a key, revoke it")
        }
        if let dailyTokensOverride, dailyTokensOverride < 1 {
            throw .invalidArgument("daily-tokens override must be at least 1 (got \(dailyTokensOverride)); to stop a key, revoke it")
        }

        let secret = SecretGenerator.makeSecret(prefix: prefix)
        let hash = SHA256.hash(secret.utf8)
        // Not `time(nil)`: glibc reads a coarse clock there that can lag the real one across a
        // second boundary, so a key could be stamped a second before it was made.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let createdAt = Int64(now.tv_sec)
        let env = environment
        let action = "cannot save the new key"
        let record: KeyRecord = try env.write(action) { txn throws(KeyStoreError) in
            // 48-bit random ids collide after ~16 million keys with probability ~50%: retry.
            for _ in 0..<8 {
                let record = KeyRecord(id: SecretGenerator.makeID(), name: name, plan: plan, createdAt: createdAt,
                                       revoked: false, rpmOverride: rpmOverride, dailyTokensOverride: dailyTokensOverride)
                guard try env.put(txn, hashByID, Array(record.id.utf8), hash, overwrite: false, action) else { continue }
                guard try env.put(txn, keyByHash, hash, RecordCoding.encode(record), overwrite: false, action) else {
                    // Two equal SHA-256 of fresh 256-bit secrets: only if the random source is broken.
                    throw .invalidArgument("refusing to save a key whose secret hash already exists; is the system random source working?")
                }
                return (commit: true, result: record)
            }
            throw .invalidArgument("could not find a free key id after 8 tries")
        }
        return (record, secret)
    }

    /// Marks the key revoked. The record stays, so `lookup` can tell "revoked" from "unknown".
    /// Revoking a revoked key does nothing.
    public func revoke(id: String) throws(KeyStoreError) {
        let env = environment
        let action = "cannot revoke key \(id)"
        // LMDB refuses an empty key or one over 511 bytes with an error about sizes; no id is either.
        guard !id.isEmpty, id.utf8.count <= 511 else { throw .unknownID(id) }
        try env.write(action) { txn throws(KeyStoreError) in
            guard let hashBytes = try env.get(txn, hashByID, Array(id.utf8), action) else { throw .unknownID(id) }
            let hash = Array(hashBytes)  // copy before writing: puts may move pages
            guard let bytes = try env.get(txn, keyByHash, hash, action) else {
                throw .corruptRecord(env.path, "id \(id) points to a missing record")
            }
            guard var record = RecordCoding.decode(bytes) else {
                throw .corruptRecord(env.path, "record of \(id)")
            }
            guard !record.revoked else { return (commit: false, result: ()) }
            record.revoked = true
            _ = try env.put(txn, keyByHash, hash, RecordCoding.encode(record), overwrite: true, action)
            return (commit: true, result: ())
        }
    }

    // MARK: Reads

    /// Every key (revoked ones included), oldest first; ties by id.
    public func list() throws(KeyStoreError) -> [KeyRecord] {
        let env = environment
        let action = "cannot list keys"
        var records: [KeyRecord] = try readers.read(env, action) { txn throws(KeyStoreError) in
            var records: [KeyRecord] = []
            try env.scan(txn, keyByHash, from: [], action) { _, bytes throws(KeyStoreError) in
                guard let record = RecordCoding.decode(bytes) else {
                    throw .corruptRecord(env.path, "a record in \(Self.keyByHashName)")
                }
                records.append(record)
                return true
            }
            return records
        }
        records.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return records
    }

    /// The record for a presented secret, or nil if no key has it, or on any storage error (the
    /// request is refused either way; use `find` to tell them apart). Revoked keys are returned
    /// with `revoked == true`: deciding what to answer is the gateway's job.
    /// Sees every commit made before the call, by this process or another, so revocations by the
    /// CLI apply at once (a key found since the store last changed is not read again:
    /// `RecentKeys`).
    public func lookup(secret: some StringProtocol) -> KeyRecord? {
        try? find(secret: secret)
    }

    /// `lookup(secret:)` for bytes straight from a request buffer.
    public func lookup(secretBytes: UnsafeRawBufferPointer) -> KeyRecord? {
        try? find(secretBytes: secretBytes)
    }

    /// Like `lookup(secret:)`, but storage failures throw instead of reading as "no such key".
    public func find(secret: some StringProtocol) throws(KeyStoreError) -> KeyRecord? {
        let utf8 = secret.utf8
        // Native strings expose their UTF-8 storage: no copy on the hot path.
        if let found = utf8.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(KeyStoreError) in try find(secretBytes: UnsafeRawBufferPointer(buffer)) }
        }) {
            return try found.get()
        }
        let copy = Array(utf8)
        return try copy.withUnsafeBytes { bytes in
            Result { () throws(KeyStoreError) in try find(secretBytes: bytes) }
        }.get()
    }

    /// Like `lookup(secretBytes:)`, but storage failures throw instead of reading as "no such key".
    public func find(secretBytes: UnsafeRawBufferPointer) throws(KeyStoreError) -> KeyRecord? {
        guard !secretBytes.isEmpty, secretBytes.count <= Self.maxSecretLength else { return nil }
        let env = environment
        return try env.withEnvironment { handle throws(KeyStoreError) in
            if let known = recent.record(for: secretBytes, generation: RecentKeys.generation(of: handle)) { return known }
            let hash = SHA256.hash(secretBytes)
            let (found, snapshot) = try readers.read(env, "cannot look up a key") { txn throws(KeyStoreError) -> (KeyRecord?, Int) in
                // The snapshot's own id, not the meta page's: a commit writes its meta page before
                // it publishes the id to readers, so in that window the meta page is one ahead of
                // the snapshot, and a record read then must not count as that newer generation.
                let snapshot = Int(mdb_txn_id(txn))
                guard let bytes = try env.get(txn, keyByHash, hash, "cannot look up a key") else { return (nil, snapshot) }
                guard let record = RecordCoding.decode(bytes) else {
                    throw .corruptRecord(env.path, "a record in \(Self.keyByHashName)")
                }
                return (record, snapshot)
            }
            if let found { recent.remember(found, for: secretBytes, generation: snapshot) }
            return found
        }
    }

    // MARK: Folders

    /// `mkdir -p` with mode 0700: the folder holds key hashes and, later, usage data.
    private static func makeFolders(_ path: String) throws(KeyStoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            var info = stat()
            if stat(prefix, &info) != 0 {
                if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                    throw .cannotCreateFolder(prefix, errno: errno)
                }
            }
            prefix += "/"
        }
    }
}
