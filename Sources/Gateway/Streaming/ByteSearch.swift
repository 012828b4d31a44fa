#if canImport(Glibc)
import Glibc
#endif
import CSwitchyardShims

/// Substring and byte search over raw bytes, through glibc's vectorized `memmem` / `memchr`:
/// every streamed event is searched for a few markers, and a byte-at-a-time loop spent ~6k
/// instructions per event there (`make bench-check PROFILE=1`, stream phase).
enum ByteSearch {
    /// The offset of the first `needle` in `haystack` at or after `from`, or nil.
    @inline(__always)
    static func firstIndex(of needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard from <= haystack.count, !needle.isEmpty, let base = haystack.baseAddress else { return nil }
        let found = needle.withUnsafeBytes { needle in
            sy_memmem(base + from, haystack.count - from, needle.baseAddress, needle.count)
        }
        return found.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
    }

    @inline(__always)
    static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        firstIndex(of: needle, in: haystack) != nil
    }

    /// The offset of the first `byte` in `haystack` at or after `from`, or nil.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard from < haystack.count, let base = haystack.baseAddress else { return nil }
        return memchr(base + from, Int32(byte), haystack.count - from).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
    }
}
