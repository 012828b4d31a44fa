// A provider client on NIO, for one benchmark only: the same gateway over a client that runs on
// the connection's own event loop, to measure what libcurl and its thread cost the real path.
// Plain http:// only; no connect or read timeouts, no proxy, no back-pressure accounting (pause
// and resume toggle reading) — enough for the small non-streaming request it is measured with.
// The product's client is `UpstreamClient` (libcurl), fixed by design.
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import UpstreamClient

public final class NIOUpstreamClient: UpstreamCalling {
    public init() {}

    /// Idle kept-alive connections by event loop and `host:port`; each is used by one call at a time.
    private let idle = NIOLockedValueBox([ObjectIdentifier: [String: [any Channel]]]())
    /// The parsed URL and header block of each (URL, header lines) pair, built on first use: both
    /// objects are shared by every call to one provider, as the libcurl client's are.
    private let prepared = NIOLockedValueBox([PreparedKey: Prepared]())

    struct PreparedKey: Hashable {
        let url: ObjectIdentifier
        let headers: ObjectIdentifier
    }

    struct Prepared {
        let target: HTTPTarget
        let headers: HTTPHeaders
    }

    private func prepare(_ request: UpstreamRequest) -> Prepared? {
        let key = PreparedKey(url: ObjectIdentifier(request.url), headers: ObjectIdentifier(request.headers))
        if let known = prepared.withLockedValue({ $0[key] }) { return known }
        guard let target = HTTPTarget(request.url.string) else { return nil }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: target.authority)
        for line in request.headers.lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            if !value.isEmpty { headers.add(name: String(line[..<colon]), value: String(value)) }
        }
        let made = Prepared(target: target, headers: headers)
        prepared.withLockedValue { $0[key] = made }
        return made
    }

    public func startCall(_ request: UpstreamRequest, delegate: any UpstreamTransferDelegate) -> any UpstreamCall {
        let call = NIOUpstreamCall(request: request, delegate: delegate, client: self)
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            call.finish(.failed("the NIO upstream client must be called on an event loop"))
            return call
        }
        guard let prepared = prepare(request) else {
            call.finish(.unreachable("only http://host:port/path URLs: \(request.url.string)"))
            return call
        }
        let target = prepared.target
        let pooled = idle.withLockedValue { pools -> (any Channel)? in
            pools[ObjectIdentifier(loop), default: [:]][target.authority]?.popLast()
        }
        if let pooled, pooled.isActive {
            call.start(on: pooled, prepared: prepared)
            return call
        }
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseRelay())
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): call.start(on: channel, prepared: prepared)
                case .failure(let error): call.finish(.unreachable("\(error)"))
                }
            }
        return call
    }

    fileprivate func release(_ channel: any Channel, authority: String) {
        let key = ObjectIdentifier(channel.eventLoop)
        idle.withLockedValue { $0[key, default: [:]][authority, default: []].append(channel) }
    }
}

/// One call: writes the request, relays the answer's parts as `UpstreamEvent`s, one batch per read.
final class NIOUpstreamCall: UpstreamCall, @unchecked Sendable {
    // Touched on the call's event loop only (after `start`).
    private let request: UpstreamRequest
    private let delegate: any UpstreamTransferDelegate
    private weak var client: NIOUpstreamClient?
    private var channel: (any Channel)?
    private var authority = ""
    private var batch: [UpstreamEvent] = []
    private var done = false

    init(request: UpstreamRequest, delegate: any UpstreamTransferDelegate, client: NIOUpstreamClient) {
        self.request = request
        self.delegate = delegate
        self.client = client
    }

    func start(on channel: any Channel, prepared: NIOUpstreamClient.Prepared) {
        self.channel = channel
        let target = prepared.target
        authority = target.authority
        guard let relay = try? channel.pipeline.syncOperations.handler(type: ResponseRelay.self) else {
            finish(.failed("no response handler"))
            return
        }
        relay.call = self
        var headers = prepared.headers
        headers.add(name: "content-length", value: String(request.body.count))
        var body = channel.allocator.buffer(capacity: request.body.count)
        body.writeBytes(request.body.bytes)
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path,
                                                                 headers: headers)), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    fileprivate func received(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            batch.append(.head(status: Int(head.status.code),
                               headers: head.headers.map { UpstreamHeader(name: $0.name, value: $0.value) }))
        case .body(let bytes):
            batch.append(.body(bytes))
        case .end:
            done = true
            batch.append(.end(nil))
            if let channel, let client { client.release(channel, authority: authority) }
            channel = nil
        }
    }

    fileprivate func readComplete() {
        guard !batch.isEmpty else { return }
        let events = batch
        batch = []
        delegate.upstreamTransfer(self, received: events)
    }

    fileprivate func closed() {
        guard !done else { return }
        finish(.failed("the provider closed the connection"))
    }

    func finish(_ failure: UpstreamFailure) {
        done = true
        channel?.close(promise: nil)
        channel = nil
        delegate.upstreamTransfer(self, received: batch + [.end(failure)])
        batch = []
    }

    func pause() { channel?.setOption(.autoRead, value: false).whenComplete { _ in } }
    func resume() { channel?.setOption(.autoRead, value: true).whenComplete { _ in } }
    func consumed(_ count: Int) {}
    func cancel() {
        done = true
        channel?.close(promise: nil)
        channel = nil
    }
}

/// The upstream connection's end: hands response parts to the call using the connection.
final class ResponseRelay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    var call: NIOUpstreamCall?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        call?.received(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        call?.readComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.closed()
        call = nil
        context.fireChannelInactive()
    }
}
