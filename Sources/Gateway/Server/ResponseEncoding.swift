import NIOCore
import NIOHTTP1

/// HTTP/1.1 responses written as bytes by the gateway itself.
///
/// Why not NIO's `HTTPResponseEncoder` (with its pipelining and error handlers): a small response
/// crossed three outbound handlers per part, for ~68k instructions of a ~334k request
/// (`make bench-check PROFILE=1`), and the pipelining handler stopped and restarted reading
/// around every request — two `epoll_ctl` calls each time. Every header written here is the
/// gateway's own (fixed lower-case names, numbers, or provider values already checked to be
/// printable ASCII), so there is nothing to validate.
enum ResponseEncoding {
    /// Status line, `headers`, then `content-length` (or `transfer-encoding: chunked` when
    /// `contentLength` is nil), `connection: close` unless `keepAlive`, and the blank line.
    static func writeHead(status: Int, headers: [(String, String)], contentLength: Int?, keepAlive: Bool,
                          into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        writeDecimal(status, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if let contentLength {
            buffer.writeStaticString("content-length: ")
            writeDecimal(contentLength, into: &buffer)
            buffer.writeStaticString("\r\n")
        } else {
            buffer.writeStaticString("transfer-encoding: chunked\r\n")
        }
        if !keepAlive { buffer.writeStaticString("connection: close\r\n") }
        buffer.writeStaticString("\r\n")
    }

    /// One chunk of a chunked body: size in hex, the bytes, CRLF. Empty input writes nothing
    /// (an empty chunk would end the body).
    static func writeChunk(_ bytes: ByteBuffer, into buffer: inout ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        writeHex(bytes.readableBytes, into: &buffer)
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// The end of a chunked body (no trailers).
    static func writeLastChunk(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("0\r\n\r\n")
    }

    /// Bytes a chunk adds around its payload, at most (16 hex digits + two CRLFs).
    static let chunkOverhead = 20

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        precondition(value >= 0)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var v = value, n = 0
            repeat {
                raw[23 - n] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                n += 1
            } while v > 0
            return n
        }
        withUnsafeBytes(of: &digits) { raw in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    private static func writeHex(_ value: Int, into buffer: inout ByteBuffer) {
        let hex: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        if shift < 0 { shift = 0 }
        while shift >= 0 {
            buffer.writeInteger(hex.utf8Start[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}
