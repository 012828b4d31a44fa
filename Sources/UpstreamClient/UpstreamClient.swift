// The provider client: libcurl's multi interface in socket mode (`curl_multi_socket_action`),
// so no event loop ever blocks on the network.
//
// Why socket mode and a lock rather than a thread that owns everything: a request used to cross
// threads three times — event loop → the curl thread (a wake-up to start the transfer), the
// provider's answer → the curl thread, the curl thread → the event loop. A wake-up of a sleeping
// thread costs tens of µs on a VM. Now the event loop starts the transfer itself, under the lock:
// libcurl sends the request at once and asks (socket callback) to watch the connection, which
// goes straight into this client's epoll set — the sleeping curl thread sees it without being
// woken. Only the answer wakes the curl thread, which reads it and hands it to the event loop.
// Connections live in the multi handle's cache and are reused; easy handles are pooled and keep
// the options every call shares.
#if canImport(Glibc)
import Glibc
#endif
import CCurl
import CSwitchyardShims
import NIOCore
import Synchronization

/// `@unchecked Sendable`: the multi handle, the pool, the active set, the timer and the touched
/// list are only used with `lock` held (by the curl thread, or by a gateway thread starting,
/// resuming or cancelling a transfer). The command queue has its own mutex; it takes commands
/// from threads that found the lock busy, and the curl thread runs them.
public final class UpstreamClient: @unchecked Sendable {
    enum Command {
        case add(UpstreamTransfer)
        case cancel(UpstreamTransfer)
        case resume(UpstreamTransfer)
    }

    private let multi: UnsafeMutableRawPointer
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let epollFD: Int32
    /// An eventfd in the epoll set: wakes the curl thread for queued commands and shutdown.
    private let wakeFD: Int32
    private let commands = Mutex<[Command]>([])
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?
    private let allocator = ByteBufferAllocator()

    // Under `lock`.
    private var active: [ObjectIdentifier: UpstreamTransfer] = [:]
    private var easyPool: [UnsafeMutableRawPointer] = []
    private var touched: [UpstreamTransfer] = []
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` handled (monotonic ns); nil: no timer.
    private var timerDeadline: UInt64?
    /// When the sleeping curl thread will wake by itself; a timer set earlier than this from
    /// another thread must wake it.
    private var sleepingUntil: UInt64 = 0
    private var watched: Set<Int32> = []

    /// - Parameter maxConnections: size of the connection cache; keep it at or above the peak
    ///   number of concurrent upstream calls so connections are reused rather than reopened.
    public init(maxConnections: Int = 512) {
        UpstreamClient.globalInit
        multi = curl_multi_init()
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        epollFD = sy_epoll_create()
        wakeFD = sy_eventfd()
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create the upstream client's epoll set: errno \(errno)")
        sy_epoll_ctl(epollFD, 0, wakeFD, UInt32(SY_EPOLLIN))

        _ = sy_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = sy_curl_multi_setopt_socket_callback(multi) { _, socket, what, user, _ in
            guard let user else { return 0 }  // cleared in deinit
            Unmanaged<UpstreamClient>.fromOpaque(user).takeUnretainedValue().watch(socket, what)
            return 0
        }
        _ = sy_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me)
        _ = sy_curl_multi_setopt_timer_callback(multi) { _, timeoutMs, user in
            guard let user else { return 0 }  // cleared in deinit
            let client = Unmanaged<UpstreamClient>.fromOpaque(user).takeUnretainedValue()
            client.timerDeadline = timeoutMs < 0 ? nil : monotonicNanos() &+ UInt64(timeoutMs) * 1_000_000
            return 0
        }
        _ = sy_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me)
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    deinit {
        // Closing connections calls the socket callback; this object is already going away.
        _ = sy_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, nil)
        _ = sy_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, nil)
        for easy in easyPool { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
        close(epollFD)
        close(wakeFD)
        pthread_mutex_destroy(lock)
        lock.deallocate()
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
        wake()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    /// Starts a call; events arrive at `delegate` on whichever thread drives libcurl at the time
    /// (the caller's, or the curl thread): hop to your own before touching your state.
    public func send(_ request: UpstreamRequest, delegate: any UpstreamTransferDelegate) -> UpstreamTransfer {
        let transfer = UpstreamTransfer(request: request, client: self, delegate: delegate)
        submit(.add(transfer))
        return transfer
    }

    /// Runs `command` on this thread if the lock is free (the usual case: no wake-up needed),
    /// else queues it for the curl thread.
    func submit(_ command: Command) {
        guard pthread_mutex_trylock(lock) == 0 else {
            commands.withLock { $0.append(command) }
            wake()
            return
        }
        // Commands queued earlier go first, so each thread's commands apply in order: a cancel
        // must not run before the add it follows (it would find nothing to cancel, and the
        // call would then start for a client that has gone).
        applyQueued()
        apply(command)
        runDueTimer()
        collectFinished()
        flushTouched()
        // A timer now due before the curl thread wakes by itself (e.g. a connect timeout).
        let mustWake = timerDeadline.map { $0 < sleepingUntil } ?? false
        pthread_mutex_unlock(lock)
        if mustWake { wake() }
    }

    /// Applies the commands other threads queued while the lock was busy. Under `lock`.
    private func applyQueued() {
        let batch = commands.withLock { queue -> [Command] in
            guard !queue.isEmpty else { return [] }
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for command in batch { apply(command) }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // MARK: The curl thread

    private func run() {
        var fds = [Int32](repeating: 0, count: 64)
        var masks = [UInt32](repeating: 0, count: 64)
        pthread_mutex_lock(lock)
        while !stopping.load(ordering: .relaxed) {
            applyQueued()
            runDueTimer()
            collectFinished()
            flushTouched()

            // Sleep until a socket is ready, the timer is due, or a wake-up (at most 1 s).
            let now = monotonicNanos()
            var waitMs = 1000
            if let deadline = timerDeadline {
                waitMs = deadline <= now ? 0 : min(1000, Int((deadline - now + 999_999) / 1_000_000))
            }
            sleepingUntil = now &+ UInt64(waitMs) * 1_000_000
            pthread_mutex_unlock(lock)
            let ready = sy_epoll_wait(epollFD, &fds, &masks, 64, Int32(waitMs))
            pthread_mutex_lock(lock)
            sleepingUntil = 0
            var running: Int32 = 0
            if ready > 0 {
                for i in 0..<Int(ready) {
                    let fd = fds[i]
                    if fd == wakeFD {
                        var count: UInt64 = 0
                        _ = read(wakeFD, &count, 8)
                        continue
                    }
                    var flags: Int32 = 0
                    if masks[i] & UInt32(SY_EPOLLIN) != 0 { flags |= CURL_CSELECT_IN }
                    if masks[i] & UInt32(SY_EPOLLOUT) != 0 { flags |= CURL_CSELECT_OUT }
                    if masks[i] & UInt32(SY_EPOLLERR) != 0 { flags |= CURL_CSELECT_ERR }
                    curl_multi_socket_action(multi, fd, flags, &running)
                }
            }
        }
        for transfer in active.values { remove(transfer) }
        active.removeAll()
        pthread_mutex_unlock(lock)
    }

    /// libcurl's timer: `CURL_SOCKET_TIMEOUT` once it is due (starts added transfers, checks
    /// timeouts). Under `lock`.
    private func runDueTimer() {
        guard let deadline = timerDeadline, deadline <= monotonicNanos() else { return }
        timerDeadline = nil
        var running: Int32 = 0
        curl_multi_socket_action(multi, curl_socket_t(CURL_SOCKET_TIMEOUT), 0, &running)
    }

    /// libcurl's socket callback: which connections to watch, for what. Under `lock`.
    private func watch(_ socket: curl_socket_t, _ what: Int32) {
        if what == CURL_POLL_REMOVE {
            // libcurl may already have closed it; a failed delete is harmless.
            if watched.remove(socket) != nil { sy_epoll_ctl(epollFD, 2, socket, 0) }
            return
        }
        var mask: UInt32 = 0
        if what & CURL_POLL_IN != 0 { mask |= UInt32(SY_EPOLLIN) }
        if what & CURL_POLL_OUT != 0 { mask |= UInt32(SY_EPOLLOUT) }
        sy_epoll_ctl(epollFD, watched.insert(socket).inserted ? 0 : 1, socket, mask)
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

    /// Whether a proxy is configured in the environment (read once: libcurl would otherwise
    /// look the variables up on every transfer).
    private static let proxyFromEnvironment: Bool = {
        let names: [String] = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        return names.contains { name in getenv(name).map { $0.pointee != 0 } ?? false }
    }()

    /// A new easy handle with the options every transfer shares. Pooled handles keep them:
    /// `configure` sets only what differs per call (no `curl_easy_reset`).
    private static func makeEasyHandle() -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else { return nil }
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // Silence for the whole read timeout (less than 1 byte/s) fails the call. Paused
        // transfers are exempt from this check in libcurl.
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_MAXAGE_CONN, 30)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        // Through an HTTPS proxy, the CONNECT reply ("200 Connection established" and a blank
        // line) would reach the header callback as if it were the provider's head, and the
        // provider's own status (a 429, a 500) would then be read as a plain header line.
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        // "" = no proxy, and no environment lookups per transfer (`NOPROXY` too: libcurl reads
        // `no_proxy` and `NO_PROXY` for every connection lookup unless it is set).
        if !proxyFromEnvironment {
            _ = sy_curl_easy_setopt_string(easy, CURLOPT_PROXY, "")
            _ = sy_curl_easy_setopt_string(easy, CURLOPT_NOPROXY, "")
        }
        _ = sy_curl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let transfer = Unmanaged<UpstreamTransfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            transfer.receivedHeaderLine(UnsafeRawBufferPointer(start: data, count: n))
            transfer.client?.markTouched(transfer)
            return n
        }
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
        return easy
    }

    private func configure(_ transfer: UpstreamTransfer) -> UnsafeMutableRawPointer? {
        guard let easy = easyPool.popLast() ?? Self.makeEasyHandle() else { return nil }
        transfer.easy = easy
        let request = transfer.request
        let me = Unmanaged.passUnretained(transfer).toOpaque()

        if let parsed = request.url.handle {
            _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_CURLU, UnsafeMutableRawPointer(parsed))
        } else {
            _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_CURLU, nil)
            _ = sy_curl_easy_setopt_string(easy, CURLOPT_URL, request.url.string)
        }
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        _ = sy_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, (min(request.readTimeoutMs, 86_400_000) + 999) / 1000))
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me)
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)

        // The transfer holds the request, so the shared list outlives the call.
        _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(request.headers.list))

        // The method is set in full every time: a pooled handle remembers the last call's.
        if request.method == "POST" || !request.body.isEmpty {
            // The transfer holds the request, so the body outlives the call.
            _ = sy_curl_easy_setopt_long(easy, CURLOPT_POST, 1)
            _ = sy_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, request.body.baseAddress)
        } else {
            _ = sy_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        }
        if request.method != "POST" && request.method != "GET" {
            _ = sy_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        } else {
            _ = sy_curl_easy_setopt_pointer(easy, CURLOPT_CUSTOMREQUEST, nil)
        }
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

@inline(__always) func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
