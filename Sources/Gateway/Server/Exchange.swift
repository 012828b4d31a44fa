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

    var upstreamStatus = 0
    var upstreamHeaders: [UpstreamHeader] = []
    /// The whole body, for non-streamed answers and for errors.
    var collected: ByteBuffer
    var streamingToClient = false

    private var framer = SSEEventFramer()
    private let rewriter: ModelFieldRewriter?
    private let allocator: ByteBufferAllocator

    init(id: Int, stream: Bool, keepAlive: Bool, translate: TranslateResponse, allocator: ByteBufferAllocator) {
        self.id = id; self.stream = stream; self.keepAlive = keepAlive; self.translate = translate
        self.allocator = allocator
        self.collected = allocator.buffer(capacity: 0)
        self.rewriter = translate.publicModelID == translate.upstreamModelID
            ? nil : ModelFieldRewriter(upstreamID: translate.upstreamModelID, publicID: translate.publicModelID)
    }

    /// Streamed bytes as the client should see them; nil when nothing is complete yet. With
    /// nothing to rewrite, bytes pass through untouched and unframed.
    func relay(_ buffer: ByteBuffer) -> ByteBuffer? {
        guard let rewriter else { return buffer }
        var out: [UInt8] = []
        out.reserveCapacity(buffer.readableBytes + 32)
        buffer.withUnsafeReadableBytes { bytes in
            framer.append(bytes) { event in rewriter.rewrite(event, into: &out) }
        }
        guard !out.isEmpty else { return nil }
        var result = allocator.buffer(capacity: out.count)
        result.writeBytes(out)
        return result
    }

    /// An unterminated last event, passed on as it is.
    func relayRemainder() -> ByteBuffer? {
        guard rewriter != nil else { return nil }
        let rest = framer.takeRemainder()
        guard !rest.isEmpty else { return nil }
        var out: [UInt8] = []
        rest.withUnsafeBytes { rewriter!.rewrite($0, into: &out) }
        var result = allocator.buffer(capacity: out.count)
        result.writeBytes(out)
        return result
    }
}
