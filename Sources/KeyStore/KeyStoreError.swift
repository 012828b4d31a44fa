import CLMDB
import LMDBSupport

/// Everything that can go wrong in the key store, worded for the person running the gateway or the
/// CLI: what failed, where, and the system's reason.
///
/// A struct around a private enum, so new failure kinds can be added without breaking callers
/// that switch over them; callers that must branch (the CLI's exit codes, the gateway's 401 vs
/// 500) use the `is…` properties.
public struct KeyStoreError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotCreateFolder(path: String, reason: String)
        case cannotOpen(path: String, reason: String)
        case storage(path: String, action: String, reason: String, lmdbCode: Int32)
        case unknownID(String)
        case invalidArgument(String)
        case corruptRecord(path: String, detail: String)
        case closed(path: String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    public var description: String {
        switch code {
        case let .cannotCreateFolder(path, reason):
            return "cannot create key store folder \(path): \(reason)"
        case let .cannotOpen(path, reason):
            return "cannot open key store at \(path): \(reason)"
        case let .storage(path, action, reason, _):
            return "key store at \(path): \(action): \(reason)"
        case let .unknownID(id):
            return "no key with id \(id)"
        case let .invalidArgument(message):
            return message
        case let .corruptRecord(path, detail):
            return "key store at \(path) holds a record this version cannot read (\(detail)); "
                + "was it written by a newer switchyard?"
        case let .closed(path):
            return "key store at \(path) is closed"
        }
    }

    /// `revoke` was given an id that is not in the store.
    public var isUnknownID: Bool {
        if case .unknownID = code { return true }
        return false
    }

    /// The caller passed something unusable (empty plan, bad prefix, negative override, …).
    public var isInvalidArgument: Bool {
        if case .invalidArgument = code { return true }
        return false
    }

    /// The raw LMDB / errno code behind a storage failure, for logs and tests.
    public var lmdbCode: Int32? {
        if case let .storage(_, _, _, rc) = code { return rc }
        return nil
    }

    // MARK: Constructors used inside the module

    static func cannotCreateFolder(_ path: String, errno err: Int32) -> KeyStoreError {
        KeyStoreError(.cannotCreateFolder(path: path, reason: LMDBReason.system(err)))
    }

    static func cannotOpen(_ path: String, rc: Int32) -> KeyStoreError {
        KeyStoreError(.cannotOpen(path: path, reason: lmdbReason(rc)))
    }

    static func storage(_ path: String, _ action: String, rc: Int32) -> KeyStoreError {
        KeyStoreError(.storage(path: path, action: action, reason: lmdbReason(rc), lmdbCode: rc))
    }

    static func unknownID(_ id: String) -> KeyStoreError { KeyStoreError(.unknownID(id)) }

    static func invalidArgument(_ message: String) -> KeyStoreError { KeyStoreError(.invalidArgument(message)) }

    static func corruptRecord(_ path: String, _ detail: String) -> KeyStoreError {
        KeyStoreError(.corruptRecord(path: path, detail: detail))
    }

    static func closed(_ path: String) -> KeyStoreError { KeyStoreError(.closed(path: path)) }

    // MARK: Reasons

    /// Hints for the LMDB codes an operator can act on.
    private static let hints: [Int32: String] = [
        MDB_MAP_FULL: "the key store is full; raise its map size",
        MDB_READERS_FULL: "too many concurrent readers; restart processes that died holding slots",
        MDB_VERSION_MISMATCH: "the files were not written by this LMDB version, or are not a key store",
        MDB_INVALID: "the files were not written by this LMDB version, or are not a key store",
        MDB_MAP_RESIZED: "another process grew the store; restart this process",
    ]

    /// LMDB's own (negative) codes in `mdb_strerror`'s words, with a hint where one helps; errno
    /// values lower-cased to read as the tail of a sentence ("…: permission denied").
    private static func lmdbReason(_ rc: Int32) -> String {
        rc < 0 ? LMDBReason.text(rc, hints: hints) : LMDBReason.system(rc)
    }
}

/// How `LMDBEnvironment` words the key store's failures (internal, so `KeyStoreError`'s
/// constructors stay out of the public API).
enum KeyStoreErrors: LMDBErrorFactory {
    static func cannotOpen(_ path: String, rc: Int32) -> KeyStoreError { .cannotOpen(path, rc: rc) }
    static func storage(_ path: String, _ action: String, rc: Int32) -> KeyStoreError { .storage(path, action, rc: rc) }
    static func closed(_ path: String) -> KeyStoreError { .closed(path) }
}

/// The key store's environment: its failures are `KeyStoreError`s.
typealias KeyEnvironment = LMDBEnvironment<KeyStoreErrors>
