import NIOCore
import UpstreamClient

/// One request being served by a provider: the transfer, what has come back so far, and how
/// streamed bytes are rewritten on their way to the client. Event-loop confined.
final class Exchange {
    let id: Int
    let stream: Bool
    let keepAlive: Bool
    let translate: TranslateResponse
    var transfer: UpstreamTransfer?
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

    init(id: Int, stream: Bool, keepAlive: Bool, translate: TranslateResponse, hideUsageChunk: Bool,
         allocator: ByteBufferAllocator) {
        self.id = id; self.stream = stream; self.keepAlive = keepAlive; self.translate = translate
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
        ResponseEncoding.frameChunkInPlace(&out)
        return out
    }
}
