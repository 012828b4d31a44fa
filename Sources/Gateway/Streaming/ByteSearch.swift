#if canImport(Glibc)
import Glibc
#endif

/// Byte search over raw bytes through glibc's vectorized `memchr`: the event framer looks for
/// line ends in every provider read, and a byte-at-a-time loop cost far more than the bytes.
enum ByteSearch {
    /// The offset of the first `byte` in `haystack` at or after `from`, or nil.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard from < haystack.count, let base = haystack.baseAddress else { return nil }
        return memchr(base + from, Int32(byte), haystack.count - from).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
    }
}
