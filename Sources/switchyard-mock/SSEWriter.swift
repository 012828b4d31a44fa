import NIOCore
import NIOHTTP1

/// Paces one streamed reply onto a connection: one flush per frame so a proxy sees real chunking,
/// optional delays between frames on the event loop's timer (never a sleep), and backpressure —
/// when the socket's send buffer and NIO's queue fill up (channel not writable) it stops producing
/// frames until `channelWritabilityChanged`, so a slow reader never makes the mock buffer the
/// whole reply.
///
/// Loop-bound: every method runs on the connection's event loop.
final class SSEWriter {
    private enum State {
        case idle
        case writing
        case waitingForWritability
        case waitingForTimer
        case yielded        // gave the loop back to other connections; a task will resume us
        case finished
    }

    private let frames: ChatStreamFrames
    private let delay: TimeAmount?
    /// Close the connection after this many frames (the `disconnect` fault).
    private let cutAfter: Int?
    private let keepAlive: Bool
    private let stats: MockStats
    private var next = 0
    private var state = State.idle
    private var timer: Scheduled<Void>?

    /// Frames written back to back before yielding the loop, so one zero-delay million-word stream
    /// cannot starve the other connections on its event loop.
    private static let framesPerTurn = 64

    /// The caller has already counted the stream as started in `stats`; this writer records how it ends.
    init(frames: ChatStreamFrames, chunkDelayMs: Int, cutAfter: Int?, keepAlive: Bool, stats: MockStats) {
        self.frames = frames
        self.delay = chunkDelayMs > 0 ? .milliseconds(Int64(chunkDelayMs)) : nil
        self.cutAfter = cutAfter
        self.keepAlive = keepAlive
        self.stats = stats
    }

    var isFinished: Bool { state == .finished }

    func start(context: ChannelHandlerContext, head: HTTPResponseHead) {
        guard state == .idle else { return }
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        state = .writing
        pump(context: context)
    }

    func writabilityChanged(context: ChannelHandlerContext) {
        guard state == .waitingForWritability, context.channel.isWritable else { return }
        state = .writing
        pump(context: context)
    }

    /// The client went away: drop the remaining frames and any pending timer at once.
    func cancel() {
        guard state != .finished, state != .idle else { return }
        timer?.cancel()
        timer = nil
        state = .finished
        stats.streamEnded(.cancelled)
    }

    private func pump(context: ChannelHandlerContext) {
        var budget = Self.framesPerTurn
        while state == .writing {
            if let cutAfter, next >= cutAfter {
                // No `[DONE]`, no chunked terminator: the client sees a truncated body.
                state = .finished
                stats.streamEnded(.aborted)
                context.close(promise: nil)
                return
            }
            if next == frames.count {
                state = .finished
                stats.streamEnded(.completed)
                let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                if !keepAlive {
                    done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
                return
            }
            guard context.channel.isWritable else {
                // The head (and anything queued) still flushes; we produce nothing more until
                // the channel drains below its low watermark.
                context.flush()
                state = .waitingForWritability
                return
            }
            let buffer = context.channel.allocator.buffer(string: frames.frame(at: next))
            next += 1
            let part = NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer)))
            if next == frames.count {
                // `[DONE]` goes out in the same flush as the chunked terminator.
                context.write(part, promise: nil)
                continue
            }
            context.writeAndFlush(part, promise: nil)
            // A failed write closes the channel, which may already have cancelled us re-entrantly.
            guard state == .writing else { return }
            if let delay {
                state = .waitingForTimer
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    self.timer = nil
                    guard self.state == .waitingForTimer else { return }
                    self.state = .writing
                    self.pump(context: context)
                }
                return
            }
            budget -= 1
            if budget == 0 {
                state = .yielded
                context.eventLoop.assumeIsolated().execute {
                    guard self.state == .yielded else { return }
                    self.state = .writing
                    self.pump(context: context)
                }
                return
            }
        }
    }
}
