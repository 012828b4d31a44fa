import Accounting
import NIOCore
import NIOHTTP1
import RouteConfig
import UpstreamClient

/// One HTTP/1.1 connection: reads a request, runs it through the pipeline stages, relays the
/// provider's answer. Lives on its channel's event loop; upstream events hop here in batches.
/// Writes responses as bytes (`ResponseEncoding`) and answers pipelined requests in order.
final class GatewayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let services: GatewayServices
    private var context: ChannelHandlerContext?

    private enum State {
        case idle
        /// The body so far is in `receivedBody`.
        case receiving(HTTPRequestHead)
        /// Already answered (e.g. 413); the rest of the request is ignored, then we close.
        case rejected
        case exchanging(Exchange)
    }
    private var state: State = .idle
    /// The request body while it arrives. Kept apart from `state` so it has one owner all along:
    /// appending never copies it, and a chat completion takes it (`takeReceivedBody`) and edits
    /// it in place. (Carried in the state's payload, pattern bindings kept a second reference
    /// alive and the in-place edit copied the whole body.)
    private var receivedBody = ByteBuffer()
    /// Whether this connection counts in the tracker's bodies arriving (see `countBody`).
    private var bodyCounted = false
    /// The route and the caller, when they were checked as the head arrived (requests with a body).
    private var earlyRoute: Dispatch.Route?
    private var earlyCaller: Caller?
    private var requestTimer: Scheduled<Void>?
    private var nextExchangeID = 0
    private var closeWhenIdle = false
    /// When the connection last started or finished a request. One timer per connection checks
    /// it and re-arms itself, so a request costs a clock read, not a timer or a promise per write.
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    /// Requests a client sent before the answer to the one in progress (HTTP/1.1 pipelining),
    /// handled in order once it is done. While any wait, reading stops, so a client cannot
    /// queue without bound; a client that does not pipeline never pauses reading.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    private var drainingPipelined = false

    init(services: GatewayServices) { self.services = services }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        services.activity.opened(context.channel)
        armIdleTimer(at: lastActivity + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        services.activity.closed(context.channel)
        self.context = nil
    }

    private var idleTimeout: TimeAmount { .milliseconds(Int64(services.settings.idleTimeoutMs)) }

    /// Closes a keep-alive connection with no request for the idle timeout. A request in
    /// progress (a long provider call, a stream) is never idle; its own timeouts apply.
    private func armIdleTimer(at deadline: NIODeadline) {
        guard let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard let context = self.context else { return }
            let due = lastActivity + idleTimeout
            if case .idle = state, due <= .now() {
                context.close(promise: nil)
            } else {
                armIdleTimer(at: max(due, .now() + .milliseconds(Int64(services.settings.idleTimeoutMs / 4 + 1))))
            }
        }
    }

    // MARK: Reading the request

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if isExchanging || !pipelined.isEmpty {
            pipelined.append(part)
            if !isExchanging { drainPipelined() }
            return
        }
        handle(part, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        armBodyTimerIfReceiving()
        context.fireChannelReadComplete()
    }

    /// The body timeout is armed only for a request still incomplete when a read ends: most
    /// requests arrive whole in one read, and a timer scheduled and cancelled per request costs
    /// allocations, a heap insertion and a failed promise. The deadline counts from the head.
    private func armBodyTimerIfReceiving() {
        guard case .receiving = state, requestTimer == nil, let context else { return }
        let deadline = lastActivity + .milliseconds(Int64(services.settings.requestTimeoutMs))
        requestTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            requestTimer = nil
            guard case .receiving = state else { return }
            reject(GatewayError(.requestTimeout, "The request body did not arrive within \(services.settings.requestTimeoutMs / 1000) s."))
            self.context?.close(promise: nil)
        }
    }

    private var isExchanging: Bool {
        if case .exchanging = state { return true }
        return false
    }

    func read(context: ChannelHandlerContext) {
        if pipelined.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// Handles requests that waited for the previous answer, until one starts an exchange.
    private func drainPipelined() {
        guard !drainingPipelined, let context else { return }
        drainingPipelined = true
        defer { drainingPipelined = false }
        while !isExchanging, let part = pipelined.popFirst() {
            handle(part, context: context)
        }
        if pipelined.isEmpty && readHeld {
            readHeld = false
            context.read()
        }
        armBodyTimerIfReceiving()  // a queued request may be waiting for the rest of its body
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard case .idle = state else { return }
            lastActivity = .now()
            let declaredLength = head.headers.first(name: "content-length").flatMap { Int(HeaderValue.trimmed($0)) }
            let expectsContinue = head.version.minor >= 1 && head.headers.first(name: "expect").map {
                let value = HeaderValue.trimmed($0)
                return value.utf8.count == 12 && value.lowercased() == "100-continue"
            } ?? false
            if let declaredLength, declaredLength > services.settings.maxBodyBytes {
                // Without `100 Continue`: the client need not send the body. One that asked for
                // it waits and sends nothing, so the connection closes right after the answer;
                // otherwise the body may already be on its way and is read and dropped first.
                reject(tooLarge(), closeNow: expectsContinue)
                return
            }
            earlyRoute = nil
            earlyCaller = nil
            if (declaredLength ?? 0) > 0 || head.headers.contains(name: "transfer-encoding") {
                // Route and key are checked before any body is held: without a valid key nobody
                // can make the gateway buffer up to `max_body_bytes` per connection, and a client
                // that asked for `100 Continue` is refused without sending its body.
                do {
                    let route = try Dispatch(catalog: services.catalog)(head)
                    earlyRoute = route
                    if route.target != .health { earlyCaller = try authenticate(head) }
                } catch {
                    reject(error, closeNow: expectsContinue)
                    return
                }
            }
            // Reserved up front for the declared size (a 100 KB turn is not regrown and copied),
            // but at most 1 MiB: the declaration alone must not make the gateway allocate 32 MiB
            // per connection.
            state = .receiving(head)
            countBody(true)
            receivedBody = Self.bodyBuffer(reserving: min(declaredLength ?? 0, services.settings.maxBodyBytes, 1 << 20),
                                           allocator: context.channel.allocator)
            // A client that asks waits for this before sending the body (curl does for bodies
            // over 1 MB, and gives up waiting only after a second).
            if expectsContinue {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")),
                                      promise: nil)
            }
        case .body(var chunk):
            guard case .receiving = state else { return }
            if receivedBody.readableBytes + chunk.readableBytes > services.settings.maxBodyBytes {
                reject(tooLarge())
                return
            }
            receivedBody.writeBuffer(&chunk)
        case .end:
            requestTimer?.cancel()
            requestTimer = nil
            switch state {
            case .receiving(let head):
                state = .idle
                process(head)
                countBody(false)  // after `process`: a started call is counted by then
            case .rejected:
                context.close(promise: nil)
            default:
                break
            }
        }
    }

    /// A request counts as unfinished for a drain from its head until it is processed, refused or
    /// its connection closes, so SIGTERM does not cut off a body still arriving.
    private func countBody(_ arriving: Bool) {
        guard arriving != bodyCounted else { return }
        bodyCounted = arriving
        if arriving { services.activity.bodyStarted() } else { services.activity.bodyEnded() }
    }

    private func tooLarge() -> GatewayError {
        GatewayError(.bodyTooLarge, "The request body is larger than this gateway accepts (\(services.settings.maxBodyBytes) bytes). Shorten the conversation or send large files by reference.")
    }

    /// Answers before the request has fully arrived (too large, too slow). The rest of the body
    /// is read and discarded, then the connection closes: closing at once would reset the
    /// connection under a client still sending, and it would never see the answer.
    private func reject(_ error: GatewayError, closeNow: Bool = false) {
        requestTimer?.cancel()
        requestTimer = nil
        state = .rejected
        countBody(false)
        receivedBody = ByteBuffer()
        var headers = [("content-type", "application/json")]
        headers.append(contentsOf: error.headers)
        write(status: error.status, headers: headers, body: error.openAIBody(), keepAlive: false, headOnly: false, closeNow: closeNow)
        if closeNow { return }
        // Bounded: a client that keeps sending after the answer is cut off.
        let grace = TimeAmount.milliseconds(Int64(min(services.settings.requestTimeoutMs, 5_000)))
        requestTimer = context?.eventLoop.assumeIsolated().scheduleTask(in: grace) { [self] in
            context?.close(promise: nil)
        }
    }

    // MARK: The pipeline

    /// The body is read as JSON as it arrived: a compressed one gets a 415 that says so, not a
    /// JSON error about its first byte.
    static func requireUncompressedBody(_ headers: HTTPHeaders) throws(GatewayError) {
        guard headers.contains(name: "content-encoding") else { return }
        for encoding in headers[canonicalForm: "content-encoding"] where encoding.lowercased() != "identity" {
            throw .unsupportedContentEncoding(String(encoding))
        }
    }

    /// The request in `receivedBody` is taken by whichever stage needs it.
    private func process(_ head: HTTPRequestHead) {
        defer { receivedBody = ByteBuffer() }  // a body no stage took is not held until the next request
        // After an upgrade request (an `Upgrade` header, or CONNECT) NIO's parser stops: the
        // connection can carry nothing more, so it closes after this answer (it used to stay
        // open, buffering whatever the client sent next).
        let upgrade = head.method == .CONNECT || head.headers.contains(name: "upgrade")
        let keepAlive = head.isKeepAlive && !closeWhenIdle && !upgrade
        let headOnly = head.method == .HEAD
        var caller: Caller?
        do {
            let route = try earlyRoute ?? Dispatch(catalog: services.catalog)(head)
            let target = route.target
            switch target {
            case .health:
                write(status: 200, headers: [("content-type", "application/json")], body: Array(#"{"status":"ok"}"#.utf8),
                      keepAlive: keepAlive, headOnly: headOnly)
            case .models:
                let who = try authenticate(head)
                caller = who
                write(status: 200, headers: [("content-type", "application/json")] + rateHeaders(who),
                      body: ListModels(catalog: services.catalog)(who), keepAlive: keepAlive, headOnly: headOnly)
            case .model:
                let who = try authenticate(head)
                caller = who
                let body = try RetrieveModel(catalog: services.catalog)(route.parameter ?? "", caller: who)
                write(status: 200, headers: [("content-type", "application/json")] + rateHeaders(who),
                      body: body, keepAlive: keepAlive, headOnly: headOnly)
            case .usage:
                let who = try authenticate(head)
                caller = who
                let report = try UsageReport(accountant: services.accountant)(who)
                write(status: 200, headers: [("content-type", "application/json")] + report.headers,
                      body: report.body, keepAlive: keepAlive, headOnly: headOnly)
            case .openaiChat:
                let who = try authenticate(head)
                caller = who
                try Self.requireUncompressedBody(head.headers)
                try startChatCompletion(body: takeReceivedBody(), caller: who, keepAlive: keepAlive,
                                        http11: head.version.major > 1 || head.version.minor >= 1)
            case .openaiResponses, .anthropicMessages:
                throw GatewayError(.unsupportedAPI, "This gateway build does not serve the \(target.rawValue) format yet.")
            }
        } catch let error as GatewayError {
            // Once the key is known, every answer says where its limits stand.
            let extra = error.code == .planRateLimited ? [] : caller.map(rateHeaders) ?? []
            write(error: error, extraHeaders: extra, keepAlive: keepAlive, headOnly: headOnly)
        } catch {
            write(error: GatewayError(.providerError, "Internal error: \(error)"), keepAlive: false, headOnly: headOnly)
        }
    }

    /// The caller, as checked when the head arrived if it was (requests with a body), else now.
    private func authenticate(_ head: HTTPRequestHead) throws(GatewayError) -> Caller {
        if let earlyCaller { return earlyCaller }
        return try Authenticate(catalog: services.catalog, keys: services.keys)(head.headers)
    }

    /// The received body, moved out (`receivedBody` is left empty): the caller is its only owner.
    private func takeReceivedBody() -> ByteBuffer {
        var body = ByteBuffer()
        swap(&body, &receivedBody)
        return body
    }

    /// Room kept free before and after a request body, so that `TranslateRequest` can change
    /// `model` and add `stream_options` in place instead of copying the whole body.
    static let bodyEditRoom = 256

    /// An empty buffer for a request body of about `size` bytes, with `bodyEditRoom` free on
    /// each side of where the body will be.
    static func bodyBuffer(reserving size: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: size + 2 * bodyEditRoom)
        buffer.moveWriterIndex(forwardBy: bodyEditRoom)
        buffer.moveReaderIndex(forwardBy: bodyEditRoom)
        return buffer
    }

    private func startChatCompletion(body: consuming ByteBuffer, caller: Caller, keepAlive: Bool, http11: Bool) throws(GatewayError) {
        let resolve = ResolveModel(catalog: services.catalog, secrets: services.secrets)
        let translate = TranslateRequest(calls: services.providerCalls)
        let prepared: Result<(ChatRequestFields, ResolvedModel), GatewayError> = body.withUnsafeReadableBytes { bytes in
            do throws(GatewayError) {
                let fields = try ResolveModel.readChatFields(bytes)
                return .success((fields, try resolve(fields.modelID, caller: caller, clientAPI: .openaiChat)))
            } catch {
                return .failure(error)
            }
        }
        let (fields, resolved) = try prepared.get()
        let request = translate.chatToChat(body: consume body, fields: fields, resolved: resolved)
        let now = wallClockMillis()
        let admission: Admission? = switch services.metering {
        case .on:
            try Admit(accountant: services.accountant)(
                caller, estimatedTokens: fields.promptEstimate + (fields.outputCap ?? 0), model: fields.modelID,
                provider: resolved.provider.id, endpoint: "openai-chat", nowMillis: now)
        case .off: nil
        }

        nextExchangeID &+= 1
        // A stream to an HTTP/1.0 client ends by closing the connection.
        let exchange = Exchange(id: nextExchangeID, stream: fields.stream, keepAlive: keepAlive && (http11 || !fields.stream),
                                chunked: http11,
                                translate: TranslateResponse(publicModelID: fields.modelID, upstreamModelID: resolved.model.upstreamID,
                                                             providerID: resolved.provider.id),
                                hideUsageChunk: fields.stream && !fields.clientAskedForUsage,
                                allocator: context!.channel.allocator)
        exchange.accounting = admission.map {
            AccountingContext(admission: $0, keyID: caller.key.id, model: fields.modelID,
                              provider: resolved.provider.id, endpoint: "openai-chat",
                              price: resolved.model.price, promptEstimate: fields.promptEstimate, startMillis: now)
        }
        state = .exchanging(exchange)
        services.activity.requestStarted()
        let bridge = UpstreamBridge(handler: NIOLoopBound(self, eventLoop: context!.eventLoop), eventLoop: context!.eventLoop,
                                    exchangeID: exchange.id)
        exchange.transfer = services.upstream.startCall(request, delegate: bridge)
        // Writability changes pause and resume the call; a call started while the client's socket
        // is already backed up (a pipelined request behind a slow stream) sees no change.
        if !context!.channel.isWritable { exchange.transfer?.pause() }
    }

    // MARK: Relaying the provider's answer

    /// Returns false when the events belong to no live exchange (it ended, or the client left):
    /// the bridge then cancels the call, so a call nobody reads can never sit paused forever.
    @discardableResult
    func upstreamEvents(_ events: [UpstreamEvent], exchangeID: Int) -> Bool {
        guard case .exchanging(let exchange) = state, exchange.id == exchangeID, let context else { return false }
        var wrote = false
        var consumed = 0
        defer { exchange.transfer?.consumed(consumed) }
        for event in events {
            switch event {
            case .head(let status, let headers):
                exchange.upstreamStatus = status
                exchange.upstreamHeaders = headers
                if exchange.stream && status == 200 {
                    exchange.streamingToClient = true
                    var head = context.channel.allocator.buffer(capacity: 512)
                    ResponseEncoding.writeHead(status: 200, headers: Self.streamHeaders, extra: exchange.accounting?.admission.headers ?? [],
                                               contentLength: nil, chunked: exchange.chunked, keepAlive: exchange.keepAlive, into: &head)
                    exchange.accounting?.firstByteMillis = wallClockMillis()
                    context.write(wrapOutboundOut(head), promise: nil)
                    wrote = true
                }
            case .body(let buffer):
                consumed += buffer.readableBytes
                if exchange.streamingToClient {
                    if let out = exchange.relay(buffer) {
                        context.write(wrapOutboundOut(out), promise: nil)
                        wrote = true
                    }
                    if exchange.eventTooLarge {
                        exchange.transfer?.cancel()
                        finish(exchange, failure: .failed("the provider sent a streamed event longer than \(SSEEventFramer.maxEventBytes) bytes"))
                        return true
                    }
                } else {
                    // Bounded like a request body: a provider cannot make the gateway hold (and
                    // then copy) an answer of any size.
                    if exchange.collected.readableBytes + buffer.readableBytes > Self.maxCollectedResponseBytes {
                        exchange.transfer?.cancel()
                        finish(exchange, failure: .failed("the provider's answer is larger than \(Self.maxCollectedResponseBytes) bytes"))
                        return true
                    }
                    var buffer = buffer
                    exchange.collected.writeBuffer(&buffer)
                }
            case .end(let failure):
                finish(exchange, failure: failure)
                return true
            }
        }
        if wrote { context.flush() }
        return true
    }

    private static let streamHeaders = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
    /// The largest non-streamed provider answer the gateway takes (a chat completion is a few KB;
    /// a long one with many tool calls, well under a MB).
    static let maxCollectedResponseBytes = 16 << 20

    private func finish(_ exchange: Exchange, failure: UpstreamFailure?) {
        guard let context else { return }
        services.activity.requestFinished()
        state = .idle
        let rate = exchange.accounting?.admission.headers ?? []
        if exchange.streamingToClient {
            var tail = context.channel.allocator.buffer(capacity: 64)
            if var rest = exchange.relayRemainder() {
                tail.writeBuffer(&rest)
            }
            if let failure {
                // After the 200 only an in-band error is possible; SDKs raise on it.
                let error = exchange.translate.failure(failure)
                var frame = context.channel.allocator.buffer(capacity: 256)
                frame.writeString("data: ")
                frame.writeBytes(error.openAIBody())
                frame.writeString("\n\n")
                if exchange.chunked { ResponseEncoding.writeChunk(frame, into: &tail) } else { tail.writeBuffer(&frame) }
            }
            if exchange.chunked { ResponseEncoding.writeLastChunk(into: &tail) }
            account(exchange, status: 200, outcome: failure == nil ? .ok : .upstreamError)
            endResponse(keepAlive: exchange.keepAlive && failure == nil, last: tail)
            return
        }
        if let failure {
            account(exchange, status: exchange.translate.failure(failure).status, outcome: .upstreamError, usage: ObservedUsage.none)
            write(error: exchange.translate.failure(failure), extraHeaders: rate, keepAlive: exchange.keepAlive, headOnly: false)
            return
        }
        let status = exchange.upstreamStatus
        if TranslateResponse.isPassThroughError(status: status, body: exchange.collected) {
            // The provider's own 4xx (a bad parameter): its status and message, unchanged.
            account(exchange, status: status, outcome: .upstreamError, usage: ObservedUsage.none)
            write(status: status, headers: [("content-type", "application/json")] + rate,
                  body: exchange.collected, keepAlive: exchange.keepAlive, headOnly: false)
            return
        }
        switch exchange.translate.complete(status: status, headers: exchange.upstreamHeaders, body: exchange.collected,
                                           allocator: context.channel.allocator) {
        case .success(let response):
            exchange.usage.record(response.usage)
            account(exchange, status: response.status, outcome: .ok)
            write(status: response.status, headers: response.headers, extraHeaders: rate, body: response.body,
                  keepAlive: exchange.keepAlive, headOnly: false)
        case .failure(let error):
            account(exchange, status: error.status, outcome: .upstreamError, usage: ObservedUsage.none)
            write(error: error, extraHeaders: rate, keepAlive: exchange.keepAlive, headOnly: false)
        }
    }

    /// Written before the response is completed, so nothing acknowledged is ever unrecorded.
    private func account(_ exchange: Exchange, status: Int, outcome: UsageRecord.Outcome, usage: ObservedUsage? = nil) {
        guard let accounting = exchange.accounting else { return }
        exchange.accounting = nil
        Account(accountant: services.accountant)(accounting, usage: usage ?? exchange.usage.usage(promptEstimate: accounting.promptEstimate),
                                                 status: status, outcome: outcome)
    }

    private func rateHeaders(_ caller: Caller) -> [(String, String)] {
        guard let status = try? services.accountant.status(keyID: caller.key.id, limits: Admit.limits(for: caller)) else { return [] }
        return OpenAIRateLimitHeaders.make(requests: status.requests, tokens: status.tokens)
    }

    // MARK: Writing

    private func write(error: GatewayError, extraHeaders: [(String, String)] = [], keepAlive: Bool, headOnly: Bool) {
        var headers = [("content-type", "application/json")]
        headers.append(contentsOf: error.headers)
        headers.append(contentsOf: extraHeaders)
        write(status: error.status, headers: headers, body: error.openAIBody(), keepAlive: keepAlive, headOnly: headOnly)
    }

    private func write(status: Int, headers: [(String, String)], body: [UInt8], keepAlive: Bool, headOnly: Bool,
                       closeNow: Bool = true) {
        guard let context else { return }
        write(status: status, headers: headers, body: context.channel.allocator.buffer(bytes: body), keepAlive: keepAlive,
              headOnly: headOnly, closeNow: closeNow)
    }

    private func write(status: Int, headers: [(String, String)], extraHeaders: [(String, String)] = [], body: ByteBuffer,
                       keepAlive: Bool, headOnly: Bool, closeNow: Bool = true) {
        guard let context else { return }
        let sendsBody = !headOnly && body.readableBytes > 0
        // A small body goes out in the same buffer as the head (one write, one iovec); a large
        // one is passed on as it is rather than copied.
        let inline = sendsBody && body.readableBytes <= 16 * 1024
        var head = context.channel.allocator.buffer(capacity: 256 + (headers.count + extraHeaders.count) * 48
                                                                 + (inline ? body.readableBytes : 0))
        ResponseEncoding.writeHead(status: status, headers: headers, extra: extraHeaders, contentLength: body.readableBytes,
                                   keepAlive: keepAlive, into: &head)
        if inline {
            head.writeImmutableBuffer(body)
            endResponse(keepAlive: keepAlive || !closeNow, last: head)
        } else if sendsBody {
            context.write(wrapOutboundOut(head), promise: nil)
            endResponse(keepAlive: keepAlive || !closeNow, last: body)
        } else {
            endResponse(keepAlive: keepAlive || !closeNow, last: head)
        }
    }

    /// Writes the response's last bytes and flushes; then closes, or goes on with requests the
    /// client pipelined.
    private func endResponse(keepAlive: Bool, last: ByteBuffer) {
        guard let context else { return }
        lastActivity = .now()
        let close = !keepAlive || closeWhenIdle
        if close {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(last)).assumeIsolated().whenComplete { _ in
                channel.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(last), promise: nil)
            if !pipelined.isEmpty { drainPipelined() }
        }
    }

    // MARK: Connection events

    func channelInactive(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        if case .exchanging(let exchange) = state {
            // The client went away: stop the provider's work (and its billing) at once, and
            // record what was streamed so far (estimated if the provider's count never came).
            exchange.transfer?.cancel()
            services.activity.requestFinished()
            let usage: ObservedUsage? = exchange.streamingToClient ? nil : ObservedUsage.none
            account(exchange, status: 499, outcome: .clientDisconnected, usage: usage)
        }
        state = .idle
        countBody(false)
        pipelined.removeAll()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state {
            if context.channel.isWritable { exchange.transfer?.resume() } else { exchange.transfer?.pause() }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            closeWhenIdle = true
            if case .idle = state { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request that is not valid HTTP/1.1 (from the decoder) gets a 400 (431 for oversized
    /// headers) in OpenAI's error format if no answer has started, then the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, !isExchanging {
            let answer = parserError == .headerOverflow
                ? GatewayError(.headersTooLarge, "The request headers are larger than this gateway accepts (64 KiB in all, 32 KiB per field).")
                : GatewayError(.malformedHTTP, "The request is not valid HTTP/1.1 (\(parserError)).")
            state = .rejected
            countBody(false)
            pipelined.removeAll()
            write(error: answer, keepAlive: false, headOnly: false)
            return
        }
        context.close(promise: nil)
    }
}

/// Hands a transfer's events from the upstream client's thread to the connection's event loop,
/// one hop per batch.
final class UpstreamBridge: UpstreamTransferDelegate {
    let handler: NIOLoopBound<GatewayHandler>
    let eventLoop: any EventLoop
    let exchangeID: Int

    init(handler: NIOLoopBound<GatewayHandler>, eventLoop: any EventLoop, exchangeID: Int) {
        self.handler = handler; self.eventLoop = eventLoop; self.exchangeID = exchangeID
    }

    func upstreamTransfer(_ transfer: any UpstreamCall, received events: [UpstreamEvent]) {
        eventLoop.execute { [handler, exchangeID] in
            if !handler.value.upstreamEvents(events, exchangeID: exchangeID) { transfer.cancel() }
        }
    }
}
