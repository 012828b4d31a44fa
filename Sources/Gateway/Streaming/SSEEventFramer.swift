import NIOCore

/// Splits a server-sent-events byte stream into whole events (each ending in a blank line), so
/// that each can be rewritten without ever splitting one across two upstream reads.
struct SSEEventFramer {
    /// An unfinished event longer than this ends the stream (`overflowed`): a provider that never
    /// ends an event could otherwise make the gateway hold every byte it sends.
    static let maxEventBytes = 1 << 20

    /// Bytes after the last complete event, all of them already searched for an event's end.
    private var pending: [UInt8] = []
    /// An event grew past `maxEventBytes`; nothing more is framed.
    private(set) var overflowed = false

    /// Appends bytes and calls `body` with each complete event, terminator included.
    mutating func append(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard !overflowed else { return }
        if pending.isEmpty {
            let consumed = Self.forEachEvent(in: bytes, from: 0, body)
            if consumed < bytes.count { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
        } else {
            // The search resumes where the last one stopped (two bytes back: a terminator can
            // straddle reads) instead of rescanning `pending`, which made a stream of lines
            // without a blank line quadratic and stalled the event loop.
            let from = max(0, pending.count - 2)
            pending.append(contentsOf: bytes)
            let consumed = pending.withUnsafeBytes { Self.forEachEvent(in: $0, from: from, body) }
            pending.removeFirst(consumed)
        }
        if pending.count > Self.maxEventBytes {
            overflowed = true
            pending = []
        }
    }

    /// Whatever is left when the stream ends (an unterminated last event).
    mutating func takeRemainder() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    /// Returns how many bytes formed complete events. `from`: where to start looking for an
    /// event's end (no event ends before it).
    static func forEachEvent(in bytes: UnsafeRawBufferPointer, from searchStart: Int = 0,
                             _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        var start = 0
        var from = searchStart
        let n = bytes.count
        while let i = ByteSearch.firstIndex(of: 0x0A, in: bytes, from: from) {
            // "\n\n" or "\n\r\n" ends an event.
            var j = i + 1
            if j < n && bytes[j] == 0x0D { j += 1 }
            if j < n && bytes[j] == 0x0A {
                body(UnsafeRawBufferPointer(rebasing: bytes[start...j]))
                start = j + 1
                from = start
            } else {
                from = i + 1
            }
        }
        return start
    }
}
