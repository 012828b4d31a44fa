import CCurl
import CSwitchyardShims
import NIOCore
import Synchronization

/// One in-flight upstream call. The gateway holds it to pause, resume or cancel; everything else
/// happens under the upstream client's lock.
///
/// `@unchecked Sendable`: the curl handle, body and pending events are touched only
/// with the client's lock held (set up when the transfer is added, torn down after removal);
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

    // Under the client's lock.
    var easy: UnsafeMutableRawPointer?
    var errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var status = 0
    var headers: [UpstreamHeader] = []
    var headSent = false
    var pending: [UpstreamEvent] = []
    var pendingBody: ByteBuffer?
    var finished = false
    var pausedByUs = false
    /// The next header line is the first of a response's head (its status line).
    var atBlockStart = true

    init(request: UpstreamRequest, client: UpstreamClient, delegate: any UpstreamTransferDelegate) {
        self.request = request
        self.client = client
        self.delegate = delegate
        errorBuffer.initialize(to: 0)
    }

    deinit {
        errorBuffer.deallocate()
    }

    /// Stop reading from the provider until `resume()`; the provider's TCP window fills and it
    /// slows down, instead of the gateway buffering a slow client's stream in memory.
    public func pause() { pauseRequested.store(true, ordering: .relaxed) }

    public func resume() {
        guard pauseRequested.exchange(false, ordering: .relaxed) else { return }
        client?.submit(.resume(self))
    }

    /// The gateway has taken `count` body bytes off the hands of this transfer.
    public func consumed(_ count: Int) {
        guard count > 0 else { return }
        let after = bytesInFlight.subtract(count, ordering: .relaxed).newValue
        if after <= Self.inFlightLowWater && after + count > Self.inFlightLowWater {
            client?.submit(.resume(self))
        }
    }

    /// Whether the client thread may resume reading (both the socket and the queue have room).
    var mayResume: Bool {
        !pauseRequested.load(ordering: .relaxed) && bytesInFlight.load(ordering: .relaxed) <= Self.inFlightLowWater
    }

    /// Abort the call now (the client went away); no further events are delivered.
    public func cancel() { client?.submit(.cancel(self)) }

    // MARK: Under the client's lock

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
            atBlockStart = !headSent  // after the final head, only trailers follow
            return
        }
        let line = UnsafeRawBufferPointer(rebasing: line[0..<end])
        let firstOfBlock = atBlockStart
        atBlockStart = false
        if firstOfBlock && line.starts(with: Self.statusLinePrefix) {
            // `HTTP/1.1 200 OK`: the three digits after the first space. Only the first line of
            // a block is a status line (a later `HTTP/x 500: …` header or trailer is not), and
            // at most three digits are read: an over-long status once overflowed `Int` and
            // killed the process.
            headers.removeAll()
            status = 0
            if let space = line.firstIndex(of: 0x20) {
                var i = space + 1
                while i < line.count, i < space + 4, let digit = line[i].asciiDigit { status = status * 10 + digit; i += 1 }
                if i < line.count, line[i].asciiDigit != nil { status = 0 }  // more than three digits: not a status
            }
            return
        }
        // Only the headers the gateway reads become Strings; a provider sends a dozen others.
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
              let name = Self.wantedName(line[..<colon]) else { return }
        var start = colon + 1
        while start < line.count, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        headers.append(UpstreamHeader(name: name, value: String(decoding: UnsafeRawBufferPointer(rebasing: line[start...]), as: UTF8.self)))
    }

    private static let statusLinePrefix = Array("HTTP/".utf8)
    /// What the gateway reads from a provider's response head.
    static let wantedHeaders = ["content-type", "retry-after", "retry-after-ms"]
    private static let wantedHeaderBytes = wantedHeaders.map { Array($0.utf8) }

    private static func wantedName(_ name: UnsafeRawBufferPointer.SubSequence) -> String? {
        for (index, wanted) in wantedHeaderBytes.enumerated() where wanted.count == name.count {
            if zip(wanted, name).allSatisfy({ $0 == Self.lower($1) }) { return wantedHeaders[index] }
        }
        return nil
    }

    @inline(__always) private static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

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

private extension UInt8 {
    var asciiDigit: Int? { (0x30...0x39).contains(self) ? Int(self - 0x30) : nil }
}
