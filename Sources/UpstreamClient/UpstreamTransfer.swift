import CCurl
import CSwitchyardShims
import NIOCore
import Synchronization

/// One in-flight upstream call. The gateway holds it to pause, resume or cancel; everything else
/// happens on the client thread.
///
/// `@unchecked Sendable`: the curl handle, header list, body and pending events are touched only
/// on the client thread (set up before the transfer is handed over, torn down after removal);
/// the only state other threads touch is the atomic pause flag and the client reference.
public final class UpstreamTransfer: @unchecked Sendable {
    let request: UpstreamRequest
    weak var client: UpstreamClient?
    let delegate: any UpstreamTransferDelegate

    /// Set by the gateway when its client cannot take more bytes; read by the write callback.
    let pauseRequested = Atomic<Bool>(false)
    /// Body bytes handed to the gateway and not yet consumed by it. Reading pauses above the
    /// high mark, so a gateway thread that falls behind a fast provider never queues more than
    /// this per transfer, whatever the client's socket is doing.
    let bytesInFlight = Atomic<Int>(0)
    static let inFlightHighWater = 256 * 1024
    static let inFlightLowWater = 64 * 1024

    // Client-thread state.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var bodyStorage: UnsafeMutableRawBufferPointer?
    var errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var status = 0
    var headers: [UpstreamHeader] = []
    var headSent = false
    var pending: [UpstreamEvent] = []
    var pendingBody: ByteBuffer?
    var finished = false
    var pausedByUs = false

    init(request: UpstreamRequest, client: UpstreamClient, delegate: any UpstreamTransferDelegate) {
        self.request = request
        self.client = client
        self.delegate = delegate
        errorBuffer.initialize(to: 0)
    }

    deinit {
        errorBuffer.deallocate()
        bodyStorage?.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// Stop reading from the provider until `resume()`; the provider's TCP window fills and it
    /// slows down, instead of the gateway buffering a slow client's stream in memory.
    public func pause() { pauseRequested.store(true, ordering: .relaxed) }

    public func resume() {
        guard pauseRequested.exchange(false, ordering: .relaxed) else { return }
        client?.enqueue(.resume(self))
    }

    /// The gateway has taken `count` body bytes off the hands of this transfer.
    public func consumed(_ count: Int) {
        guard count > 0 else { return }
        let after = bytesInFlight.subtract(count, ordering: .relaxed).newValue
        if after <= Self.inFlightLowWater && after + count > Self.inFlightLowWater {
            client?.enqueue(.resume(self))
        }
    }

    /// Whether the client thread may resume reading (both the socket and the queue have room).
    var mayResume: Bool {
        !pauseRequested.load(ordering: .relaxed) && bytesInFlight.load(ordering: .relaxed) <= Self.inFlightLowWater
    }

    /// Abort the call now (the client went away); no further events are delivered.
    public func cancel() { client?.enqueue(.cancel(self)) }

    // MARK: Client thread

    func flushPending(allocator: ByteBufferAllocator) {
        if let body = pendingBody {
            bytesInFlight.add(body.readableBytes, ordering: .relaxed)
            pending.append(.body(body))
            pendingBody = nil
        }
        guard !pending.isEmpty else { return }
        let events = pending
        pending.removeAll(keepingCapacity: true)
        delegate.upstreamTransfer(self, received: events)
    }

    func receivedHeaderLine(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        if end == 0 {
            // End of a header block; 1xx blocks are followed by the real one.
            if status >= 200 && !headSent {
                headSent = true
                pending.append(.head(status: status, headers: headers))
            }
            return
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            headers.removeAll()
            let parts = text.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        headers.append(UpstreamHeader(name: name, value: String(value)))
    }

    /// Returns false when the transfer should pause instead of taking the bytes.
    func receivedBody(_ bytes: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) -> Bool {
        if pauseRequested.load(ordering: .relaxed)
            || bytesInFlight.load(ordering: .relaxed) + (pendingBody?.readableBytes ?? 0) > Self.inFlightHighWater {
            pausedByUs = true
            return false
        }
        if !headSent {
            // Headers without a terminating blank line should not happen, but never lose a status.
            headSent = true
            pending.append(.head(status: status, headers: headers))
        }
        if pendingBody == nil { pendingBody = allocator.buffer(capacity: max(bytes.count, 4096)) }
        pendingBody!.writeBytes(bytes)
        return true
    }
}
