import CLMDB
import Glibc
import LMDBSupport

/// Failures of the usage store, worded for the operator: what failed, where, and why.
///
/// A struct around a private enum so new kinds can be added without breaking callers; callers
/// that must branch use the `is…` properties.
public struct AccountingError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotCreateFolder(path: String, reason: String)
        case cannotOpen(path: String, reason: String)
        case storage(path: String, action: String, reason: String, lmdbCode: Int32)
        case invalidArgument(String)
        case corruptRecord(path: String, detail: String)
        case closed(path: String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    public var description: String {
        switch code {
        case let .cannotCreateFolder(path, reason): return "cannot create usage folder \(path): \(reason)"
        case let .cannotOpen(path, reason): return "cannot open usage store at \(path): \(reason)"
        case let .storage(path, action, reason, _): return "usage store at \(path): \(action): \(reason)"
        case let .invalidArgument(message): return message
        case let .corruptRecord(path, detail):
            return "usage store at \(path) holds a record this version cannot read (\(detail)); "
                + "was it written by a newer switchyard?"
        case let .closed(path): return "usage store at \(path) is closed"
        }
    }

    public var isInvalidArgument: Bool {
        if case .invalidArgument = code { return true }
        return false
    }

    /// The store ran out of map space (`MDB_MAP_FULL`): raise `Options.mapSize`.
    public var isFull: Bool { lmdbCode == MDB_MAP_FULL }

    /// The raw LMDB / errno code behind a storage failure.
    public var lmdbCode: Int32? {
        if case let .storage(_, _, _, rc) = code { return rc }
        return nil
    }

    static func cannotCreateFolder(_ path: String, errno err: Int32) -> AccountingError {
        AccountingError(.cannotCreateFolder(path: path, reason: String(cString: strerror(err))))
    }

    static func cannotOpen(_ path: String, rc: Int32) -> AccountingError {
        AccountingError(.cannotOpen(path: path, reason: reason(rc)))
    }

    static func storage(_ path: String, _ action: String, rc: Int32) -> AccountingError {
        AccountingError(.storage(path: path, action: action, reason: reason(rc), lmdbCode: rc))
    }

    static func invalidArgument(_ message: String) -> AccountingError { AccountingError(.invalidArgument(message)) }

    static func corruptRecord(_ path: String, _ detail: String) -> AccountingError {
        AccountingError(.corruptRecord(path: path, detail: detail))
    }

    static func closed(_ path: String) -> AccountingError { AccountingError(.closed(path: path)) }

    /// Hints for the LMDB codes an operator can act on.
    private static let hints: [Int32: String] = [
        MDB_MAP_FULL: "the usage store is full; raise its map size",
        MDB_READERS_FULL: "too many concurrent readers",
        MDB_MAP_RESIZED: "another process grew the store with a larger map size; restart this process",
    ]

    /// `mdb_strerror`'s words for LMDB's negative codes and errno values alike, with a hint where
    /// one helps.
    private static func reason(_ rc: Int32) -> String { LMDBReason.text(rc, hints: hints) }
}

/// How `LMDBEnvironment` words the usage store's failures (internal, so `AccountingError`'s
/// constructors stay out of the public API).
enum UsageErrors: LMDBErrorFactory {
    static func cannotOpen(_ path: String, rc: Int32) -> AccountingError { .cannotOpen(path, rc: rc) }
    static func storage(_ path: String, _ action: String, rc: Int32) -> AccountingError { .storage(path, action, rc: rc) }
    static func closed(_ path: String) -> AccountingError { .closed(path) }
}
