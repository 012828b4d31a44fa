import CCurl
import NIOCore

/// One call to a provider, fully prepared by the gateway (URL, provider auth, rewritten body).
public struct UpstreamRequest: Sendable {
    public var method: String
    public var url: UpstreamURL
    /// `Name: value` lines, sent as given.
    public var headers: UpstreamHeaderLines
    public var body: UpstreamBody
    public var connectTimeoutMs: Int
    /// Longest upstream silence before the call fails with `.timedOut`.
    public var readTimeoutMs: Int

    public init(method: String = "POST", url: UpstreamURL, headers: UpstreamHeaderLines, body: UpstreamBody,
                connectTimeoutMs: Int, readTimeoutMs: Int) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
        self.connectTimeoutMs = connectTimeoutMs; self.readTimeoutMs = readTimeoutMs
    }
}

/// A provider URL, parsed once into libcurl's URL handle (`CURLOPT_CURLU`), so a call skips
/// libcurl's parse of the URL string. Falls back to the string if libcurl cannot parse it.
///
/// `@unchecked Sendable`: the handle is written only in `init`; libcurl only reads it (it copies
/// the handle for each transfer).
public final class UpstreamURL: @unchecked Sendable {
    public let string: String
    let handle: OpaquePointer?

    public init(_ string: String) {
        self.string = string
        var handle = curl_url()
        if let parsed = handle, curl_url_set(parsed, CURLUPART_URL, string, 0) != CURLUE_OK {
            curl_url_cleanup(parsed)
            handle = nil
        }
        self.handle = handle
    }

    deinit { if let handle { curl_url_cleanup(handle) } }
}

/// Request header lines, built once into libcurl's list form. Immutable, so one object serves
/// every call that sends the same lines (a provider's fixed headers): a call then allocates no
/// strings and no list nodes (that was about ten allocations per call).
///
/// `@unchecked Sendable`: the list is written only in `init`; libcurl only reads it.
public final class UpstreamHeaderLines: @unchecked Sendable {
    public let lines: [String]
    let list: UnsafeMutablePointer<curl_slist>?

    public init(_ lines: [String]) {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for line in lines { list = curl_slist_append(list, line) }
        // Without this libcurl sends `Expect: 100-continue` for large bodies and waits for it.
        list = curl_slist_append(list, "Expect:")
        self.list = list
        self.lines = lines
    }

    deinit { curl_slist_free_all(list) }
}

/// A request body, written once and then only read: libcurl sends it straight from here
/// (`CURLOPT_POSTFIELDS`), so a 100 KB agent turn is not copied again on its way out. Either
/// memory of its own, or the readable bytes of the buffer the request was received into (its
/// storage kept alive by a retain).
///
/// `@unchecked Sendable`: the memory is written only before `init` returns and read-only
/// afterwards.
public final class UpstreamBody: @unchecked Sendable {
    /// At least one byte, so there is always an address to give libcurl.
    private let storage: UnsafeMutableRawBufferPointer
    /// The received buffer's storage when the bytes are its; nil when `storage` is our own.
    private let borrowed: Unmanaged<AnyObject>?
    public let count: Int

    public var isEmpty: Bool { count == 0 }
    var baseAddress: UnsafeMutableRawPointer { storage.baseAddress! }
    /// The body's bytes, valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage.baseAddress, count: count) }

    /// `count` bytes, all written by `fill` (the memory is uninitialized until then).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        storage = .allocate(byteCount: max(count, 1), alignment: 1)
        borrowed = nil
        self.count = count
        fill(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// The readable bytes of `buffer`, not copied. `buffer` must not be written to afterwards by
    /// anyone holding it (the body is sent from its storage).
    public init(readableBytesOf buffer: ByteBuffer) {
        var pointer: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
        var storageReference: Unmanaged<AnyObject>?
        buffer.withUnsafeReadableBytesWithStorageManagement { bytes, reference in
            pointer = bytes
            storageReference = reference.retain()
        }
        count = buffer.readableBytes
        if let base = pointer.baseAddress, count > 0 {
            storage = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: base), count: count)
            borrowed = storageReference
        } else {
            storageReference?.release()
            storage = .allocate(byteCount: 1, alignment: 1)
            borrowed = nil
        }
    }

    deinit {
        if let borrowed { borrowed.release() } else { storage.deallocate() }
    }
}

public struct UpstreamHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) { self.name = name; self.value = value }
}

/// Why a call ended without a complete response.
public enum UpstreamFailure: Error, Sendable, Equatable {
    /// The provider did not answer (or went silent) within the read timeout.
    case timedOut(String)
    /// No connection could be made (DNS, refused, TLS).
    case unreachable(String)
    /// The connection broke or the response was not valid HTTP.
    case failed(String)
}

/// What a transfer reports, in order. Body bytes that arrive within one wake-up of the client
/// thread come as one `.body`, so the receiver hops threads once per batch, not once per chunk.
public enum UpstreamEvent: Sendable {
    case head(status: Int, headers: [UpstreamHeader])
    case body(ByteBuffer)
    /// Always last; nil when the response completed.
    case end(UpstreamFailure?)
}

public protocol UpstreamTransferDelegate: AnyObject, Sendable {
    /// Called on whichever thread drives libcurl at the time (the curl thread, or a thread that
    /// started, resumed or cancelled a transfer): hop to your own before touching your state.
    func upstreamTransfer(_ transfer: any UpstreamCall, received events: [UpstreamEvent])
}
