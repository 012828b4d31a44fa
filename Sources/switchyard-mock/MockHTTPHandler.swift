import Glibc
import NIOCore
import NIOHTTP1

/// One per connection: collects a request, routes it, and writes the response — plain, streamed,
/// or a simulated fault. NIO's pipelining handler in front of it guarantees one request at a time.
final class MockHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Larger bodies get a 413; a benchmark's biggest agent turns are a few hundred KB.
    static let maxBodyBytes = 32 << 20

    private let defaults: MockDefaults
    private let stats: MockStats
    private var head: HTTPRequestHead?
    private var body: ByteBuffer
    private var bodyTooLarge = false

    /// The live stream, if any.
    private var stream: SSEWriter?
    /// A response waiting out its `first_byte_delay_ms`.
    private var delayedResponse: Scheduled<Void>?
    /// A stream already counted as started whose writer does not exist yet (first-byte delay or
    /// `hang`): if the client leaves now, it still counts as a cancelled stream.
    private var streamAwaitingStart = false
    /// A `hang` fault holding this connection.
    private var hanging = false

    init(defaults: MockDefaults, stats: MockStats, allocator: ByteBufferAllocator) {
        self.defaults = defaults
        self.stats = stats
        self.body = allocator.buffer(capacity: 0)
    }

    // MARK: - Channel events

    func channelActive(context: ChannelHandlerContext) {
        stats.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stats.connectionClosed()
        delayedResponse?.cancel()
        delayedResponse = nil
        if streamAwaitingStart {
            streamAwaitingStart = false
            stats.streamEnded(.cancelled)
        }
        stream?.cancel()
        stream = nil
        if hanging {
            hanging = false
            stats.hangEnded()
        }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        stream?.writabilityChanged(context: context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Resets and broken pipes from clients that went away; channelInactive does the cleanup.
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            bodyTooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else if !bodyTooLarge {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            route(context: context, head: head)
        }
    }

    // MARK: - Routing

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first
            .map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            respond(context: context, head: head, status: .ok, contentType: "text/plain", body: "ok")
        case (.GET, "/mock/stats"):
            respond(context: context, head: head, status: .ok, contentType: "application/json", body: stats.json())
        case (.POST, "/mock/reset"):
            stats.reset()
            respond(context: context, head: head, status: .ok, contentType: "application/json", body: stats.json())
        case (.POST, "/v1/chat/completions"):
            let sequence = stats.requestReceived()
            chatCompletions(context: context, head: head, sequence: sequence)
        case (.GET, "/v1/models"):
            _ = stats.requestReceived()
            respond(context: context, head: head, status: .ok, contentType: "application/json", body: MockModels.listJSON)
        case (.GET, _) where path.hasPrefix("/v1/models/"):
            _ = stats.requestReceived()
            let id = String(path.dropFirst("/v1/models/".count))
            respond(context: context, head: head, status: .ok, contentType: "application/json",
                    body: MockModels.modelJSON(id: id))
        default:
            _ = stats.requestReceived()
            respondError(context: context, head: head, .notFound(method: head.method, uri: path))
        }
    }

    // MARK: - Chat Completions

    private func chatCompletions(context: ChannelHandlerContext, head: HTTPRequestHead, sequence: Int) {
        if bodyTooLarge {
            return respondError(context: context, head: head, .bodyTooLarge)
        }
        var options = MockOptions(defaults: defaults)
        guard let json = ChatRequest.parseJSON(body) else {
            // No body to read options from, but a header fault still applies.
            if let fault = MockOptions.headerFault(head.headers) {
                return perform(fault, context: context, head: head, request: nil, reply: nil, options: options)
            }
            return respondError(context: context, head: head, .bodyNotJSON)
        }
        options.apply(model: json["model"] as? String)
        do {
            if let mock = JSONValue.object(json["mock"]) { try options.apply(body: mock) }
            try options.apply(headers: head.headers)
        } catch {
            let message: String
            switch error {
            case .unknownFault(let name):
                message = "Unknown mock fault '\(name)'; expected one of: "
                    + Fault.allCases.map(\.rawValue).joined(separator: ", ") + ", none."
            case .badNumber(let name, let value):
                message = "Invalid value for mock option '\(name)': \(value)."
            }
            return respondError(context: context, head: head, .invalidRequest(message, param: "mock", code: "invalid_value"))
        }

        let request: ChatRequest?
        let invalid: ChatRequest.Invalid?
        do {
            request = try ChatRequest(json)
            invalid = nil
        } catch {
            request = nil
            invalid = error
        }
        let reply = request.map {
            ChatReply(request: $0, words: options.words, sequence: sequence, created: time(nil))
        }

        if let fault = options.fault {
            return perform(fault, context: context, head: head, request: request, reply: reply, options: options)
        }
        guard let request, let reply else {
            let e = invalid ?? ChatRequest.Invalid(message: "Invalid request.", param: nil, code: nil)
            return respondError(context: context, head: head, .invalidRequest(e.message, param: e.param, code: e.code))
        }
        // What the mock received, for tests of what a gateway forwards: the response's `model`
        // cannot tell them, since a gateway rewrites it back to the public id.
        let echoed = options.echoHeaders
            ? ",\"mock_received_headers\":" + Self.headersJSON(head.headers)
                + ",\"mock_received_model\":" + JSONText.quoted(request.model)
                + ",\"mock_received_body_bytes\":\(body.readableBytes)"
                + ",\"mock_received_body_fnv1a64\":\"" + Self.fnv1a64Hex(body) + "\""
            : ""
        if request.stream {
            let frames = ChatStreamFrames(reply: reply, includeUsage: request.includeUsage, malformed: false,
                                          firstChunkExtraFields: echoed)
            startStream(context: context, head: head, frames: frames, options: options, cutAfter: nil)
        } else {
            let body = reply.completionJSON(extraFields: echoed)
            afterFirstByteDelay(options, context: context) {
                self.respond(context: context, head: head, status: .ok, contentType: "application/json",
                             body: body, extraHeaders: [("x-request-id", reply.requestID)])
            }
        }
    }

    private func perform(_ fault: Fault, context: ChannelHandlerContext, head: HTTPRequestHead,
                         request: ChatRequest?, reply: ChatReply?, options: MockOptions) {
        // Faults that imitate a broken stream need a valid streaming request to build frames from;
        // otherwise they fall back to their non-streaming form.
        let streamable = request?.stream == true ? reply : nil
        switch fault {
        case .serverError, .rateLimited, .badRequest:
            let error: OpenAIError = fault == .serverError ? .serverError
                : fault == .rateLimited ? .rateLimited : .badTemperature
            afterFirstByteDelay(options, context: context) {
                self.respondError(context: context, head: head, error)
            }
        case .malformed:
            if let reply = streamable, let request {
                let frames = ChatStreamFrames(reply: reply, includeUsage: request.includeUsage, malformed: true)
                startStream(context: context, head: head, frames: frames, options: options, cutAfter: nil)
            } else {
                let id = reply?.id ?? "chatcmpl-mock"
                afterFirstByteDelay(options, context: context) {
                    self.respond(context: context, head: head, status: .ok, contentType: "application/json",
                                 body: "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"choices\":[{")
                }
            }
        case .disconnect:
            if let reply = streamable, let request {
                let frames = ChatStreamFrames(reply: reply, includeUsage: request.includeUsage, malformed: false)
                // The role chunk and up to three content chunks, never the finish chunk.
                let cut = min(4, frames.contentFrameCount)
                startStream(context: context, head: head, frames: frames, options: options, cutAfter: cut)
            } else {
                afterFirstByteDelay(options, context: context) { context.close(promise: nil) }
            }
        case .hang:
            // Nothing is scheduled: the connection just stays open until the client closes it,
            // which channelInactive notices even though NIO's pipelining handler has paused reads.
            hanging = true
            stats.hangStarted()
            if streamable != nil {
                stats.streamStarted()
                streamAwaitingStart = true
            }
        }
    }

    private func startStream(context: ChannelHandlerContext, head: HTTPRequestHead, frames: ChatStreamFrames,
                             options: MockOptions, cutAfter: Int?) {
        stats.streamStarted()
        streamAwaitingStart = true
        // HTTP/1.0 has no chunked encoding: there the body ends when the connection closes.
        let chunked = head.version.major == 1 && head.version.minor >= 1
        let keepAlive = head.isKeepAlive && chunked
        let writer = SSEWriter(frames: frames, chunkDelayMs: options.chunkDelayMs, cutAfter: cutAfter,
                               keepAlive: keepAlive, stats: stats)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "cache-control", value: "no-cache")
        if chunked { headers.add(name: "transfer-encoding", value: "chunked") }
        headers.add(name: "x-request-id", value: frames.requestID)
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: .ok, headers: headers)
        afterFirstByteDelay(options, context: context) {
            self.streamAwaitingStart = false
            self.stream = writer
            writer.start(context: context, head: responseHead)
        }
    }

    // MARK: - Writing

    private func afterFirstByteDelay(_ options: MockOptions, context: ChannelHandlerContext,
                                     _ action: @escaping () -> Void) {
        guard options.firstByteDelayMs > 0 else { return action() }
        delayedResponse = context.eventLoop.assumeIsolated().scheduleTask(
            in: .milliseconds(Int64(options.firstByteDelayMs))
        ) {
            self.delayedResponse = nil
            action()
        }
    }

    private func respondError(context: ChannelHandlerContext, head: HTTPRequestHead, _ error: OpenAIError) {
        respond(context: context, head: head, status: error.status, contentType: "application/json",
                body: error.json, extraHeaders: error.extraHeaders)
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                         contentType: String, body: String, extraHeaders: [(String, String)] = []) {
        let buffer = context.channel.allocator.buffer(string: body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Request headers as a JSON object with lowercased names; repeated headers are joined with ", ".
    /// FNV-1a (64-bit) of the readable bytes, 16 hex digits: lets a test check that a forwarded
    /// body arrived byte for byte without echoing all of it.
    static func fnv1a64Hex(_ buffer: ByteBuffer) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in buffer.readableBytesView {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func headersJSON(_ headers: HTTPHeaders) -> String {
        var order: [String] = []
        var values: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if let existing = values[key] {
                values[key] = existing + ", " + value
            } else {
                order.append(key)
                values[key] = value
            }
        }
        return "{" + order.map { JSONText.quoted($0) + ":" + JSONText.quoted(values[$0]!) }.joined(separator: ",") + "}"
    }
}
