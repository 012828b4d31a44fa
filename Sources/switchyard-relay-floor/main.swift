// The floor of the gateway's stack, for the benchmarks only: a NIO HTTP/1.1 server that relays
// each request body to one upstream URL and answers with the upstream's status and body. No key,
// no plan, no JSON, no limits, no ledger: what Switchyard costs beyond this is its own work; what
// this costs beyond nginx is the stack's (`make bench` reports both).
//
// `--client curl` (default) sends through the gateway's own libcurl client (`UpstreamClient`,
// its thread and hand-offs); `--client nio` through a NIO HTTP client on the same event loop, one
// kept-alive upstream connection per client connection (as nginx does) — what the stack would
// cost without libcurl.
// Never deploy it: anyone who can reach it can call the upstream.
//
//   switchyard-relay-floor [--listen HOST:PORT] [--upstream http://HOST:PORT/PATH] [--client curl|nio]
#if canImport(Glibc)
import Glibc
#endif
import BenchmarkSupport
import Gateway
import NIOCore
import NIOHTTP1
import NIOPosix
import UpstreamClient

func fail(_ message: String) -> Never {
    let line = "switchyard-relay-floor: \(message)\n"
    line.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

var listen = "127.0.0.1:8083"
var upstreamURL = "http://127.0.0.1:9100/v1/chat/completions"
var clientKind = "curl"
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--listen": listen = value
    case "--upstream": upstreamURL = value
    case "--client" where value == "curl" || value == "nio": clientKind = value
    default: fail("unknown option \(flag) \(value); usage: switchyard-relay-floor [--listen HOST:PORT] [--upstream URL] [--client curl|nio]")
    }
}
let address: ListenAddress
do { address = try ListenAddress(parsing: listen) } catch { fail(error.description) }

/// One request's body as its parts arrive; `take` hands it over at the end.
struct RequestCollector {
    private(set) var keepAlive = true
    private var body = ByteBuffer()

    mutating func take(_ part: HTTPServerRequestPart, allocator: ByteBufferAllocator) -> ByteBuffer? {
        switch part {
        case .head(let head):
            keepAlive = head.isKeepAlive
            body = allocator.buffer(capacity: 2048)
        case .body(var bytes):
            body.writeBuffer(&bytes)
        case .end:
            defer { body = ByteBuffer() }
            return body
        }
        return nil
    }
}

/// The upstream's answer as the client's response, written as bytes (as the gateway writes its
/// own); `body` is left empty for the next request.
func writeAnswer(status: Int, body: inout ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
    var out = context.channel.allocator.buffer(capacity: body.readableBytes + 128)
    out.writeString("HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\ncontent-type: application/json\r\n")
    out.writeString("content-length: \(body.readableBytes)\r\n\(keepAlive ? "" : "connection: close\r\n")\r\n")
    out.writeBuffer(&body)
    body.clear()
    context.writeAndFlush(NIOAny(out), promise: nil)
    if !keepAlive { context.close(promise: nil) }
}

/// Shared by every connection: the upstream client and the request's fixed parts.
final class Relay: Sendable {
    let client = UpstreamClient()
    let url: UpstreamURL
    let headers = UpstreamHeaderLines(["Content-Type: application/json", "Accept: application/json"])
    init(url: String) { self.url = UpstreamURL(url) }
}

/// One connection: collects a request, relays it, writes the answer, then takes the next.
final class RelayHandler: ChannelInboundHandler, UpstreamTransferDelegate, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private let relay: Relay
    private let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?
    private var request = RequestCollector()
    private var answer = ByteBuffer()
    private var status = 0

    init(relay: Relay, eventLoop: any EventLoop) {
        self.relay = relay
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let body = request.take(unwrapInboundIn(data), allocator: context.channel.allocator) else { return }
        let call = UpstreamRequest(url: relay.url, headers: relay.headers, body: UpstreamBody(readableBytesOf: body),
                                   connectTimeoutMs: 5_000, readTimeoutMs: 60_000)
        _ = relay.client.send(call, delegate: self)
    }

    func upstreamTransfer(_ transfer: any UpstreamCall, received events: [UpstreamEvent]) {
        eventLoop.execute { [self] in
            var consumed = 0
            for event in events {
                switch event {
                case .head(let status, _): self.status = status
                case .body(var part):
                    consumed += part.readableBytes
                    answer.writeBuffer(&part)
                case .end(let failure): respond(failed: failure != nil)
                }
            }
            transfer.consumed(consumed)
        }
    }

    private func respond(failed: Bool) {
        guard let context else { return }
        writeAnswer(status: failed ? 502 : status, body: &answer, keepAlive: request.keepAlive, context: context)
    }
}

/// `--client nio`: one upstream connection per client connection, on the client's event loop.
final class NIORelayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private let target: HTTPTarget
    private var context: ChannelHandlerContext?
    private var upstream: (any Channel)?
    private var request = RequestCollector()
    fileprivate var answer = ByteBuffer()
    fileprivate var status = 0

    init(target: HTTPTarget) { self.target = target }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelInactive(context: ChannelHandlerContext) {
        upstream?.close(promise: nil)
        upstream = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let body = request.take(unwrapInboundIn(data), allocator: context.channel.allocator) else { return }
        if let upstream {
            send(body, on: upstream)
            return
        }
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamSide(relay: self))
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.upstream = channel
                    self.send(body, on: channel)
                case .failure:
                    self.respond(failed: true)
                }
            }
    }

    private func send(_ body: ByteBuffer, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: target.authority)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path, headers: headers)),
                      promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    fileprivate func respond(failed: Bool) {
        guard let context else { return }
        writeAnswer(status: failed ? 502 : status, body: &answer, keepAlive: request.keepAlive, context: context)
    }
}

/// The upstream connection's end of `NIORelayHandler`.
final class UpstreamSide: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private let relay: NIORelayHandler

    init(relay: NIORelayHandler) { self.relay = relay }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): relay.status = Int(head.status.code)
        case .body(var part): relay.answer.writeBuffer(&part)
        case .end: relay.respond(failed: false)
        }
    }
}

// The libcurl client (and its thread) only when it is the one measured.
let relay: Relay? = clientKind == "curl" ? Relay(url: upstreamURL) : nil
relay?.client.start()
let nioTarget: HTTPTarget? = {
    guard clientKind == "nio" else { return nil }
    guard let target = HTTPTarget(upstreamURL) else { fail("--client nio takes an http:// upstream URL") }
    return target
}()
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 16)
            // The decoder only: answers are written as bytes, as the gateway does.
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            if let relay {
                try channel.pipeline.syncOperations.addHandler(RelayHandler(relay: relay, eventLoop: channel.eventLoop))
            } else if let nioTarget {
                try channel.pipeline.syncOperations.addHandler(NIORelayHandler(target: nioTarget))
            }
        }
    }
do {
    let server = try bootstrap.bind(host: address.host, port: address.port).wait()
    print("switchyard-relay-floor listening on \(server.localAddress.map { "\($0)" } ?? listen) → \(upstreamURL) (\(clientKind))")
    fflush(nil)
    try server.closeFuture.wait()
} catch {
    fail("\(error)")
}
