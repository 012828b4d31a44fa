// The provider client: libcurl's multi interface driven by one dedicated thread, so no event
// loop ever blocks on the network. Connections live in the multi handle's cache and are reused
// across calls; easy handles are pooled.
#if canImport(Glibc)
import Glibc
#endif
import CCurl
import CSwitchyardShims
import NIOCore
import Synchronization

/// `@unchecked Sendable`: the multi handle, the pool and the active set are owned by the client
/// thread; other threads only append to the mutex-guarded command queue and call
/// `curl_multi_wakeup`, which libcurl documents as thread-safe.
public final class UpstreamClient: @unchecked Sendable {
    enum Command {
        case add(UpstreamTransfer)
        case cancel(UpstreamTransfer)
        case resume(UpstreamTransfer)
    }

    private let multi: UnsafeMutableRawPointer
    private let commands = Mutex<[Command]>([])
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?
    private let allocator = ByteBufferAllocator()

    // Client-thread state.
    private var active: [ObjectIdentifier: UpstreamTransfer] = [:]
    private var easyPool: [UnsafeMutableRawPointer] = []
    private var touched: [UpstreamTransfer] = []

    /// - Parameter maxConnections: size of the connection cache; keep it at or above the peak
    ///   number of concurrent upstream calls so connections are reused rather than reopened.
    public init(maxConnections: Int = 512) {
        UpstreamClient.globalInit
        multi = curl_multi_init()
        _ = sy_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    deinit {
        for easy in easyPool { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
    }

    public func start() {
        let unmanaged = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let client = Unmanaged<UpstreamClient>.fromOpaque(arg!).takeRetainedValue()
            client.run()
            return nil
        }, unmanaged.toOpaque())
        precondition(rc == 0, "cannot start the upstream client thread: \(rc)")
        thread = tid
    }

    /// Stops the thread; calls still in flight are aborted.
    public func shutdown() {
        stopping.store(true, ordering: .relaxed)
        curl_multi_wakeup(multi)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    /// Starts a call; events arrive at `delegate` on the client thread.
    public func send(_ request: UpstreamRequest, delegate: any UpstreamTransferDelegate) -> UpstreamTransfer {
        let transfer = UpstreamTransfer(request: request, client: self, delegate: delegate)
        enqueue(.add(transfer))
        return transfer
    }

    func enqueue(_ command: Command) {
        commands.withLock { $0.append(command) }
        curl_multi_wakeup(multi)
    }

    // MARK: The client thread

    private func run() {
        var running: Int32 = 0
        while !stopping.load(ordering: .relaxed) {
            let batch = commands.withLock { queue -> [Command] in
                let taken = queue
                queue.removeAll(keepingCapacity: true)
                return taken
            }
            for command in batch { apply(command) }
            curl_multi_perform(multi, &running)
            collectFinished()
            flushTouched()
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in active.values { remove(transfer) }
        active.removeAll()
    }

    private func apply(_ command: Command) {
        switch command {
        case .add(let transfer):
            guard let easy = configure(transfer) else {
                transfer.pending.append(.end(.failed("cannot set up the upstream request")))
                markTouched(transfer)
                return
            }
            active[ObjectIdentifier(transfer)] = transfer
            curl_multi_add_handle(multi, easy)
        case .cancel(let transfer):
            guard active.removeValue(forKey: ObjectIdentifier(transfer)) != nil else { return }
            transfer.finished = true
            transfer.pending.removeAll()
            transfer.pendingBody = nil
            remove(transfer)
        case .resume(let transfer):
            guard active[ObjectIdentifier(transfer)] != nil, transfer.pausedByUs, transfer.mayResume,
                  let easy = transfer.easy else { return }
            transfer.pausedByUs = false
            // May call the write callback at once with the bytes held back.
            curl_easy_pause(easy, CURLPAUSE_CONT)
        }
    }

    private func configure(_ transfer: UpstreamTransfer) -> UnsafeMutableRawPointer? {
        let easy: UnsafeMutableRawPointer
        if let pooled = easyPool.popLast() {
            curl_easy_reset(pooled)
            easy = pooled
        } else {
            guard let fresh = curl_easy_init() else { return nil }
            easy = fresh
        }
        transfer.easy = easy
        let request = transfer.request
        let me = Unmanaged.passUnretained(transfer).toOpaque()

        _ = sy_curl_easy_setopt_string(easy, CURLOPT_URL, request.url)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        // Silence for the whole read timeout (less than 1 byte/s) fails the call. Paused
        // transfers are exempt from this check in libcurl.
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, (request.readTimeoutMs + 999) / 1000))
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_MAXAGE_CONN, 30)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me)

        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers { list = curl_slist_append(list, header) }
        // Without this libcurl sends `Expect: 100-continue` for large bodies and waits for it.
        list = curl_slist_append(list, "Expect:")
        transfer.headerList = list
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))

        if request.method == "POST" || !request.body.isEmpty {
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(request.body.count, 1), alignment: 1)
            storage.copyBytes(from: request.body)
            transfer.bodyStorage = storage
            _ = sy_curl_easy_setopt_long(easy, CURLOPT_POST, 1)
            _ = sy_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, storage.baseAddress)
        }
        if request.method != "POST" && request.method != "GET" {
            _ = sy_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        }

        _ = sy_curl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let transfer = Unmanaged<UpstreamTransfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            transfer.receivedHeaderLine(UnsafeRawBufferPointer(start: data, count: n))
            transfer.client?.markTouched(transfer)
            return n
        }
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        _ = sy_curl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let transfer = Unmanaged<UpstreamTransfer>.fromOpaque(user!).takeUnretainedValue()
            guard let client = transfer.client else { return 0 }
            let n = size * count
            guard transfer.receivedBody(UnsafeRawBufferPointer(start: data, count: n), allocator: client.allocator) else {
                return Int(CURL_WRITEFUNC_PAUSE)
            }
            client.markTouched(transfer)
            return n
        }
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        return easy
    }

    func markTouched(_ transfer: UpstreamTransfer) {
        // Linear check is fine: a wake-up touches few transfers, and it keeps this allocation-free.
        if !touched.contains(where: { $0 === transfer }) { touched.append(transfer) }
    }

    private func flushTouched() {
        guard !touched.isEmpty else { return }
        for transfer in touched { transfer.flushPending(allocator: allocator) }
        touched.removeAll(keepingCapacity: true)
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var privatePointer: UnsafeMutableRawPointer?
            _ = sy_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &privatePointer)
            guard let privatePointer else { continue }
            let transfer = Unmanaged<UpstreamTransfer>.fromOpaque(privatePointer).takeUnretainedValue()
            guard active.removeValue(forKey: ObjectIdentifier(transfer)) != nil else { continue }
            let failure = Self.failure(for: code, detail: String(cString: transfer.errorBuffer))
            if failure == nil && !transfer.headSent {
                transfer.headSent = true
                transfer.pending.append(.head(status: transfer.status, headers: transfer.headers))
            }
            if let body = transfer.pendingBody {
                transfer.bytesInFlight.add(body.readableBytes, ordering: .relaxed)
                transfer.pending.append(.body(body))
                transfer.pendingBody = nil
            }
            transfer.pending.append(.end(failure))
            transfer.finished = true
            markTouched(transfer)
            remove(transfer)
        }
    }

    private func remove(_ transfer: UpstreamTransfer) {
        guard let easy = transfer.easy else { return }
        curl_multi_remove_handle(multi, easy)
        transfer.easy = nil
        if easyPool.count < 256 { easyPool.append(easy) } else { curl_easy_cleanup(easy) }
    }

    static func failure(for code: CURLcode, detail: String) -> UpstreamFailure? {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OK: return nil
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(text)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR,
             CURLE_PEER_FAILED_VERIFICATION:
            return .unreachable(text)
        default: return .failed(text)
        }
    }
}
