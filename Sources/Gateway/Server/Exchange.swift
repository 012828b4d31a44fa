#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import UpstreamClient

/// One request being served by a provider: the transfer, what has come back so far, and how
/// streamed bytes are rewritten on their way to the client. Event-loop confined.
final class Exchange {
    let id: Int
    let stream: Bool
    let keepAlive: Bool
    /// The client speaks HTTP/1.1: a stream goes out as a chunked body. An HTTP/1.0 client gets
    /// the bytes as they are, ended by closing the connection (it cannot read chunks).
    let chunked: Bool
    let translate: TranslateResponse
    var transfer: (any UpstreamCall)?
    var accounting: AccountingContext?

    var upstreamStatus = 0
    var upstreamHeaders: [UpstreamHeader] = []
    /// The whole body, for non-streamed answers and for errors.
    var collected: ByteBuffer
    var streamingToClient = false

    var usage: UsageTap
    private var framer = SSEEventFramer()
    private let rewriter: ModelFieldRewriter?
    private let allocator: ByteBufferAllocator

    init(id: Int, stream: Bool, keepAlive: Bool, chunked: Bool = true, translate: TranslateResponse, hideUsageChunk: Bool,
         allocator: ByteBufferAllocator) {
        self.id = id; self.stream = stream; self.keepAlive = keepAlive; self.chunked = chunked; self.translate = translate
        self.usage = UsageTap(hideUsageChunk: hideUsageChunk)
        self.allocator = allocator
        self.collected = allocator.buffer(capacity: 0)
        // Only streams are relayed event by event; a whole body is rewritten by `translate`.
        self.rewriter = !stream || translate.publicModelID == translate.upstreamModelID
            ? nil : ModelFieldRewriter(upstreamID: translate.upstreamModelID, publicID: translate.publicModelID)
    }

    /// Streamed bytes as the client should see them — whole events only, as one chunk of the
    /// chunked body — or nil when nothing is complete yet. Each event is checked for usage and
    /// has its model id rewritten.
    func relay(_ buffer: ByteBuffer) -> ByteBuffer? {
        var out = startChunk(capacity: buffer.readableBytes + 32)
        buffer.withUnsafeReadableBytes { bytes in
            framer.append(bytes) { event in emit(event, into: &out) }
        }
        return finishChunk(&out)
    }

    /// The provider sent an event longer than `SSEEventFramer.maxEventBytes`: the stream ends.
    var eventTooLarge: Bool { framer.overflowed }

    /// An unterminated last event, passed on as it is (as a chunk).
    func relayRemainder() -> ByteBuffer? {
        let rest = framer.takeRemainder()
        guard !rest.isEmpty else { return nil }
        var out = startChunk(capacity: rest.count + 32)
        rest.withUnsafeBytes { emit($0, into: &out) }
        return finishChunk(&out)
    }

    /// `modelValues` is kept between events so its storage is reused.
    private var modelValues: [Range<Int>] = []

    private func emit(_ event: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        modelValues.removeAll(keepingCapacity: true)
        let keys = SSEEventKeys.scan(event, modelValues: &modelValues)
        guard usage.inspect(event: event, keys: keys) else { return }
        if let rewriter, !modelValues.isEmpty {
            rewriter.write(event, modelValues: modelValues, into: &out)
        } else {
            out.writeBytes(event)
        }
        // The gateway asked for usage, so every chunk carries `"usage":null`; a client that did
        // not ask gets the chunks as the provider would have sent them to it. Cut from what was
        // just written (the event's end is the same after a model rewrite): writing the event in
        // two pieces cost ~800 instructions per chunk, this ~280 (`make bench-check`, stream).
        if usage.hideUsageChunk, let cut = Self.nullUsageMember(in: event) {
            let tail = event.count - cut.upperBound, removed = cut.count
            out.withUnsafeMutableReadableBytes { bytes in
                let end = bytes.count
                memmove(bytes.baseAddress! + end - tail - removed, bytes.baseAddress! + end - tail, tail)
            }
            out.moveWriterIndex(to: out.writerIndex - removed)
        }
    }

    private static let nullUsageSuffix = Array(#","usage":null}"#.utf8)

    /// Where `,"usage":null` is when it is the last member of a one-line `data:` event's object
    /// (the event ends `,"usage":null}` and its line breaks): the closing brace is the object's
    /// last byte, so the member is at its top level and not inside a string. Any other layout is
    /// left as it is.
    static func nullUsageMember(in event: UnsafeRawBufferPointer) -> Range<Int>? {
        var end = event.count
        while end > 0 && (event[end - 1] == 0x0A || event[end - 1] == 0x0D) { end -= 1 }
        let suffix = nullUsageSuffix
        guard end >= suffix.count else { return nil }
        let start = end - suffix.count
        let same = suffix.withUnsafeBytes { memcmp(event.baseAddress! + start, $0.baseAddress!, suffix.count) == 0 }
        return same ? start..<(end - 1) : nil
    }

    /// A buffer whose first bytes are left free for the chunk-size line, so events are written
    /// once, straight into the chunk (they used to go to an array first, then be copied).
    private func startChunk(capacity: Int) -> ByteBuffer {
        var out = allocator.buffer(capacity: capacity + ResponseEncoding.chunkOverhead)
        out.moveWriterIndex(forwardBy: ResponseEncoding.chunkSizeLineRoom)
        out.moveReaderIndex(forwardBy: ResponseEncoding.chunkSizeLineRoom)
        return out
    }

    private func finishChunk(_ out: inout ByteBuffer) -> ByteBuffer? {
        guard out.readableBytes > 0 else { return nil }
        if chunked { ResponseEncoding.frameChunkInPlace(&out) }
        return out
    }
}
