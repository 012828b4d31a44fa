#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SwitchyardJSON

/// Replaces the upstream model id with the public one in streamed chunks, so clients see the id
/// they asked for. Works on the raw bytes of one event, at the `"model"` values `SSEEventKeys`
/// found (any nesting level); a value is replaced only when it is exactly the quoted upstream id.
struct ModelFieldRewriter {
    private let upstreamValue: [UInt8]
    private let publicValue: [UInt8]

    init(upstreamID: String, publicID: String) {
        var u: [UInt8] = [], p: [UInt8] = []
        JSONTopLevelScanner.appendQuoted(upstreamID, to: &u)
        JSONTopLevelScanner.appendQuoted(publicID, to: &p)
        upstreamValue = u; publicValue = p
    }

    /// Writes `event` to `out`, with each of `modelValues` (ranges of quoted strings, in order)
    /// that holds the upstream id replaced.
    func write(_ event: UnsafeRawBufferPointer, modelValues: [Range<Int>], into out: inout ByteBuffer) {
        var copiedUpTo = 0
        for value in modelValues where value.count == upstreamValue.count {
            let same = upstreamValue.withUnsafeBytes { memcmp($0.baseAddress!, event.baseAddress! + value.lowerBound, value.count) == 0 }
            guard same else { continue }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: event[copiedUpTo..<value.lowerBound]))
            out.writeBytes(publicValue)
            copiedUpTo = value.upperBound
        }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: event[copiedUpTo...]))
    }
}
