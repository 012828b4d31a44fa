#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix

/// The listening side: binds, builds each connection's pipeline, and shuts down gracefully.
public final class GatewayServer: Sendable {
    private let services: GatewayServices
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel

    /// One thread per core in all: the upstream client has a thread of its own, so the event
    /// loops take the other cores. On 2 cores, 1 event loop + the upstream thread served as many
    /// requests per second as 2 + 1 and spent 25% less CPU per request (fewer sleeping threads to
    /// wake per request; see BENCHMARKS.md).
    public static var defaultEventLoopThreads: Int { max(1, System.coreCount - 1) }

    /// Binds and starts accepting.
    public init(services: GatewayServices, host: String, port: Int, threads: Int = GatewayServer.defaultEventLoopThreads) throws {
        self.services = services
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        var limits = NIOHTTPDecoderLimitConfiguration()
        // Header limits: generous for coding agents' custom headers, bounded against abuse.
        limits.maxHeaderFieldSize = 32 * 1024
        limits.maxHeaderListSize = 64 * 1024
        limits.maxHeaderFieldCount = 256
        let decoderLimits = limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Out of file descriptors, `accept` fails while the listening socket stays readable.
            // This handler pauses reads after a failure and logs what to change (NIO adds it only
            // on its async bind path). It cannot stop every retry: when the first `accept` of a
            // wake-up fails, NIO keeps the socket registered (its pending-read flag is cleared
            // only by a successful accept) and polls it again at once (measured: a core busy
            // until descriptors free up). `serve` raises the soft limit so this is rare.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptBackoffHandler(shouldForwardIOErrorCaught: false, backoffProvider: GatewayServer.acceptBackoff))
                }
            }
            // No `childChannelOption`s: NIO applies those through a chain of futures per
            // connection (~20k instructions for two options); set synchronously in the
            // initializer, ~3k (`make bench-check`, connection phase).
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let options = channel.syncOptions {
                        try options.setOption(.maxMessagesPerRead, value: 16)
                        #if !os(Linux)
                        // On Linux an accepted socket inherits TCP_NODELAY from the listening
                        // socket, where NIO's ServerBootstrap sets it (a test reads it from the
                        // gateway's own accepted socket); elsewhere it is set per connection.
                        try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
                        #endif
                    }
                    let sync = channel.pipeline.syncOperations
                    // NIO parses requests; GatewayHandler writes responses as bytes and handles
                    // pipelining and parse errors itself (see ResponseEncoding).
                    // The parser forwards bodies as they arrive, so it only ever holds a partial
                    // head (≤ 64 KiB) or the rest of one read; 1 MiB bounds what a client can make
                    // it keep (bytes after an upgrade request were kept without limit).
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                                limitConfiguration: decoderLimits),
                                                             maximumBufferSize: 1 << 20))
                    try sync.addHandler(GatewayHandler(services: services))
                }
            }
        do {
            serverChannel = try bootstrap.bind(host: host, port: port).wait()
        } catch let error {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    public var localAddress: SocketAddress? { serverChannel.localAddress }

    /// When the last accept failure was logged (seconds since the epoch): at most one line in 10 s.
    private static let acceptFailureLogged = Atomic<Int>(0)

    /// The pause after a failed `accept`, and a line for the operator saying what to change.
    static func acceptBackoff(_ error: IOError) -> TimeAmount? {
        let now = time(nil)
        let last = acceptFailureLogged.load(ordering: .relaxed)
        if now - last >= 10, acceptFailureLogged.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
            let advice = error.errnoCode == EMFILE || error.errnoCode == ENFILE
                ? " Raise the open-file limit (`ulimit -n`, or LimitNOFILE= for systemd)." : ""
            var line = "switchyard: cannot accept connections (\(error)); pausing 100 ms between tries.\(advice)\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
        return .milliseconds(100)
    }

    /// Blocks until SIGTERM or SIGINT, then drains: stop accepting, close idle connections,
    /// let requests in flight (streams included) finish within the grace period, then stop.
    public func runUntilSignalled() {
        let semaphore = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            sources.append(source)
        }
        semaphore.wait()
        drain()
        _ = sources
    }

    public func drain() {
        try? serverChannel.close().wait()
        services.activity.draining.store(true, ordering: .relaxed)
        for channel in services.activity.channels {
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(DrainEvent()) }
        }
        let grace = services.settings.shutdownGraceMs
        var waited = 0
        while services.activity.unfinishedRequests > 0 && waited < grace {
            usleep(20_000)
            waited += 20
        }
        for channel in services.activity.channels { channel.close(promise: nil) }
        try? group.syncShutdownGracefully()
    }
}
