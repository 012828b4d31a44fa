import CLMDB
import Glibc

/// How a store words the failures `LMDBEnvironment` detects itself, in the store's own public
/// error type: each store conforms an internal type, so its callers keep one error type, the
/// messages stay the store's own, and the error type's constructors stay internal.
public protocol LMDBErrorFactory {
    associatedtype Failure: Error
    /// The environment in `path` could not be created, configured or opened, or its named
    /// databases could not be opened; `rc` is the LMDB or errno code.
    static func cannotOpen(_ path: String, rc: Int32) -> Failure
    /// An LMDB call failed with `rc` while doing `action` (worded for the operator).
    static func storage(_ path: String, _ action: String, rc: Int32) -> Failure
    /// A call came after `close()`.
    static func closed(_ path: String) -> Failure
}

/// Reason texts for LMDB and errno codes, worded as the tail of an error message.
public enum LMDBReason {
    /// `mdb_strerror` covers LMDB's own (negative) codes and errno values alike. The codes an
    /// operator can act on get a hint from `hints`, appended in parentheses.
    public static func text(_ rc: Int32, hints: [Int32: String] = [:]) -> String {
        let text = String(cString: mdb_strerror(rc))
        guard let hint = hints[rc] else { return text }
        return text + " (" + hint + ")"
    }

    /// `strerror`, lower-cased to read as the tail of a sentence ("…: permission denied").
    public static func system(_ err: Int32) -> String {
        let text = String(cString: strerror(err))
        guard let first = text.first, first.isUppercase,
              text.dropFirst().first.map({ !$0.isUppercase }) ?? true else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
