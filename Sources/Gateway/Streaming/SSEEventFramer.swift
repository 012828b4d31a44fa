import NIOCore

/// Splits a server-sent-events byte stream into whole events (each ending in a blank line), so
/// that each can be rewritten without ever splitting one across two upstream reads.
struct SSEEventFramer {
    private var pending: [UInt8] = []

    /// Appends bytes and calls `body` with each complete event, terminator included.
    mutating func append(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        if pending.isEmpty {
            let consumed = Self.forEachEvent(in: bytes, body)
            if consumed < bytes.count { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
        } else {
            pending.append(contentsOf: bytes)
            let consumed = pending.withUnsafeBytes { Self.forEachEvent(in: $0, body) }
            pending.removeFirst(consumed)
        }
    }

    /// Whatever is left when the stream ends (an unterminated last event).
    mutating func takeRemainder() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    /// Returns how many bytes formed complete events.
    static func forEachEvent(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        var start = 0
        var from = 0
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
