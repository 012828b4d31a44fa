import CLMDB
import Synchronization

/// Keys found recently, so a request with a known key skips the SHA-256 and the LMDB read
/// (~7.5k of a small request's ~220k instructions, `make bench-check`).
///
/// Valid only while the store is unchanged: every entry belongs to the environment's last
/// committed write transaction id at the time it was read, and the whole cache is dropped as soon
/// as that id moves — a key created, revoked or changed by any process (the CLI) sharing the
/// folder. Reading the id is a load from the shared meta page (`mdb_env_info`), not a
/// transaction, so revocations apply on the next request as before.
///
/// Only keys that exist are kept (unknown secrets cannot fill the cache), at most `capacity` of
/// them; when full, the cache starts over. Entries hold the presented secret: it stays in this
/// process's memory, as it does in every request buffer, and is never written anywhere.
///
/// Plain (checked) `Sendable`: the state is inside a `Mutex`.
final class RecentKeys: Sendable {
    static let capacity = 4096

    private struct State {
        /// The store's last committed transaction id the entries belong to; -1: none yet.
        var generation = -1
        var records: [[UInt8]: KeyRecord] = [:]
    }

    private let state = Mutex(State())

    /// The environment's last committed write transaction id, from any process.
    static func generation(of env: OpaquePointer) -> Int {
        var info = MDB_envinfo()
        guard mdb_env_info(env, &info) == 0 else { return -1 }
        return Int(info.me_last_txnid)
    }

    /// The record kept for `secret` if the store is still at `generation`.
    func record(for secret: UnsafeRawBufferPointer, generation: Int) -> KeyRecord? {
        guard generation >= 0 else { return nil }
        return state.withLock { state -> KeyRecord? in
            guard state.generation == generation, !state.records.isEmpty else { return nil }
            return state.records[Array(secret)]
        }
    }

    /// Keeps `record`, read in the snapshot of write transaction `generation` (`mdb_txn_id` of
    /// the read transaction). It is found again only while the meta page still says the same.
    func remember(_ record: KeyRecord, for secret: UnsafeRawBufferPointer, generation: Int) {
        guard generation >= 0 else { return }
        state.withLock { state in
            if state.generation != generation {
                // An older generation's entries are stale; a newer one's are kept and this record,
                // read before that newer commit, is not added.
                guard generation > state.generation else { return }
                state.generation = generation
                state.records.removeAll(keepingCapacity: true)
            }
            if state.records.count >= Self.capacity { state.records.removeAll(keepingCapacity: true) }
            state.records[Array(secret)] = record
        }
    }

    /// Number of keys kept (for tests).
    var count: Int { state.withLock { $0.records.count } }
}
