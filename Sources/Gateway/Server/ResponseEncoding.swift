import NIOCore
import NIOHTTP1

/// HTTP/1.1 responses written as bytes by the gateway itself.
///
/// Why not NIO's `HTTPResponseEncoder` (with its pipelining and error handlers): a small response
/// crossed three outbound handlers per part; taking them out saved ~33k instructions of a ~335k
/// request (`make bench-check`), and the pipelining handler stopped and restarted reading
/// around every request — two `epoll_ctl` calls each time. Every header written here is the
/// gateway's own (fixed lower-case names, numbers, or provider values already checked to be
/// printable ASCII), so there is nothing to validate.
enum ResponseEncoding {
    /// Status line, `headers`, then `content-length` (or `transfer-encoding: chunked` when
    /// `contentLength` is nil and `chunked`; neither for a body that ends when the connection
    /// closes, the only way to stream to an HTTP/1.0 client), `connection: close` unless
    /// `keepAlive`, and the blank line.
    /// `extra` follows `headers` (the rate-limit headers, kept apart so no array is concatenated
    /// per response).
    static func writeHead(status: Int, headers: [(String, String)], extra: [(String, String)] = [], contentLength: Int?,
                          chunked: Bool = true, keepAlive: Bool, into buffer: inout ByteBuffer) {
        var reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        // One reservation and plain copies: a `ByteBuffer` write per piece (~50 of them) cost
        // more than the bytes (10.7k instructions for a small response's head).
        var size = 9 + decimalDigits(status) + 1 + reason.utf8.count + 2 + 2
        for (name, value) in headers { size += name.utf8.count + 2 + value.utf8.count + 2 }
        for (name, value) in extra { size += name.utf8.count + 2 + value.utf8.count + 2 }
        size += contentLength == nil ? 28 : 16 + 20 + 2
        if !keepAlive { size += 19 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var at = 0
            @inline(__always) func put(_ bytes: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + bytes.count)]).copyMemory(from: bytes)
                at += bytes.count
            }
            @inline(__always) func put(_ text: StaticString) {
                put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            }
            @inline(__always) func put(_ text: inout String) { text.withUTF8 { put(UnsafeRawBufferPointer($0)) } }
            @inline(__always) func putDecimal(_ value: Int) {
                let digits = decimalDigits(value)
                var v = value
                for i in stride(from: at + digits - 1, through: at, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                at += digits
            }
            put("HTTP/1.1 ")
            putDecimal(status)
            put(" ")
            put(&reason)
            put("\r\n")
            // Two plain loops on purpose: a local function over both lists measured 5.5k
            // instructions more per response (`make bench-check`).
            for (name, value) in headers {
                var name = name, value = value
                put(&name)
                put(": ")
                put(&value)
                put("\r\n")
            }
            for (name, value) in extra {
                var name = name, value = value
                put(&name)
                put(": ")
                put(&value)
                put("\r\n")
            }
            if let contentLength {
                put("content-length: ")
                putDecimal(contentLength)
                put("\r\n")
            } else if chunked {
                put("transfer-encoding: chunked\r\n")
            }
            if !keepAlive { put("connection: close\r\n") }
            put("\r\n")
            return at
        }
    }

    /// How many digits `value` (≥ 0) has in decimal.
    static func decimalDigits(_ value: Int) -> Int {
        precondition(value >= 0, "negative status or length")
        var digits = 1, rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        return digits
    }

    /// One chunk of a chunked body: size in hex, the bytes, CRLF. Empty input writes nothing
    /// (an empty chunk would end the body).
    static func writeChunk(_ bytes: ByteBuffer, into buffer: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { writeChunk($0, into: &buffer) }
    }

    static func writeChunk(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        guard bytes.count > 0 else { return }
        writeHex(bytes.count, into: &buffer)
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// The end of a chunked body (no trailers).
    static func writeLastChunk(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("0\r\n\r\n")
    }

    /// Bytes a chunk adds around its payload, at most (16 hex digits + two CRLFs).
    static let chunkOverhead = 20

    /// Room for a chunk-size line before a payload (8 hex digits, as chunks stay under 4 GiB, and
    /// CRLF): see `frameChunkInPlace`.
    static let chunkSizeLineRoom = 10

    /// Makes the readable bytes of `buffer` one chunk: the size line goes into the
    /// `chunkSizeLineRoom` bytes left free before them, and CRLF after. `buffer` must not be empty.
    static func frameChunkInPlace(_ buffer: inout ByteBuffer) {
        let (digits, count) = hexDigits(buffer.readableBytes)
        let start = buffer.readerIndex - count - 2
        precondition(start >= 0, "no room left for the chunk-size line")
        buffer.writeStaticString("\r\n")
        // The size line poked straight into the storage: a `setBytes` and a `setStaticString`
        // cost ~800 instructions per streamed chunk (`make bench-check PROFILE=1`).
        buffer.withVeryUnsafeMutableBytes { storage in
            withUnsafeBytes(of: digits.littleEndian) { raw in
                UnsafeMutableRawBufferPointer(rebasing: storage[start..<(start + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            }
            storage[start + count] = 0x0D
            storage[start + count + 1] = 0x0A
        }
        buffer.moveReaderIndex(to: start)
    }

    private static func writeHex(_ value: Int, into buffer: inout ByteBuffer) {
        let (digits, count) = hexDigits(value)
        withUnsafeBytes(of: digits.littleEndian) { raw in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
    }

    /// `value` in lower-case hex, packed into a word in reading order (little endian), and the
    /// digit count. Digits into a word, then one write: a write per digit cost more than the
    /// chunk's bytes.
    private static func hexDigits(_ value: Int) -> (digits: UInt64, count: Int) {
        let hex: StaticString = "0123456789abcdef"
        var digits: UInt64 = 0
        var count = 0
        var rest = value
        repeat {
            digits = digits << 8 | UInt64(hex.utf8Start[rest & 0xF])
            rest >>= 4
            count += 1
        } while rest > 0 && count < 8
        precondition(rest == 0, "chunk larger than 4 GiB")
        // The most significant digit went in last, into the lowest byte: in memory (little
        // endian) the digits are in reading order.
        return (digits, count)
    }
}
