import NIOCore
import NIOHTTP1
import NIOPosix

/// The listening socket and its event loops.
struct MockServer {
    let host: String
    let port: Int
    let defaults: MockDefaults
    let stats = MockStats()

    /// Binds and returns the server channel; `localAddress` has the real port when `port` is 0.
    func start(group: MultiThreadedEventLoopGroup) throws -> any Channel {
        let defaults = self.defaults
        let stats = self.stats
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Each streamed frame is its own small write; don't let Nagle merge them.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        MockHTTPHandler(defaults: defaults, stats: stats, allocator: channel.allocator))
                }
            }
        return try bootstrap.bind(host: host, port: port).wait()
    }
}
