@testable import Gateway
import NIOCore
import Testing

@Suite struct ResponseEncodingTests {
    func head(_ status: Int, _ headers: [(String, String)], length: Int?, keepAlive: Bool) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        ResponseEncoding.writeHead(status: status, headers: headers, contentLength: length, keepAlive: keepAlive, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func headWithLengthAndKeepAlive() {
        #expect(head(200, [("content-type", "application/json"), ("x-ratelimit-limit-requests", "60")], length: 654, keepAlive: true)
                == "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-ratelimit-limit-requests: 60\r\ncontent-length: 654\r\n\r\n")
    }

    @Test func extraHeadersFollowTheResponsesOwnAndAreSizedIn() {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        let long = String(repeating: "v", count: 300)  // past the head's fixed allowance
        ResponseEncoding.writeHead(status: 200, headers: [("content-type", "application/json")],
                                   extra: [("x-ratelimit-remaining-requests", "59"), ("x-long", long)],
                                   contentLength: 2, keepAlive: true, into: &buffer)
        #expect(String(buffer: buffer) == "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + "x-ratelimit-remaining-requests: 59\r\nx-long: \(long)\r\ncontent-length: 2\r\n\r\n")
    }

    @Test func chunkedHeadThatCloses() {
        #expect(head(200, [("content-type", "text/event-stream")], length: nil, keepAlive: false)
                == "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
    }

    @Test func statusesLengthsAndNonASCIIValuesAreWrittenExactly() {
        #expect(head(431, [], length: 0, keepAlive: false)
                == "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        #expect(head(504, [("x", "é")], length: Int(Int64.max), keepAlive: true)
                == "HTTP/1.1 504 Gateway Timeout\r\nx: é\r\ncontent-length: 9223372036854775807\r\n\r\n")
        // A status NIO has no phrase for still gets a well-formed line.
        #expect(head(299, [], length: 10, keepAlive: true).hasPrefix("HTTP/1.1 299 "))
    }

    @Test func chunksAreFramedInHex() {
        var out = ByteBufferAllocator().buffer(capacity: 0)
        ResponseEncoding.writeChunk(ByteBuffer(string: String(repeating: "a", count: 26)), into: &out)
        ResponseEncoding.writeChunk(ByteBuffer(string: ""), into: &out)  // writes nothing: "0" would end the body
        ResponseEncoding.writeChunk(ByteBuffer(string: "b"), into: &out)
        ResponseEncoding.writeLastChunk(into: &out)
        #expect(String(buffer: out) == "1a\r\n" + String(repeating: "a", count: 26) + "\r\n1\r\nb\r\n0\r\n\r\n")
    }

    @Test func chunkSizesInHexAtDigitBoundaries() {
        for size in [15, 16, 255, 256, 4096, 65_535, 1_048_577] {
            var out = ByteBufferAllocator().buffer(capacity: 0)
            ResponseEncoding.writeChunk(ByteBuffer(repeating: 0x78, count: size), into: &out)
            let text = String(buffer: out)
            #expect(text.hasPrefix(String(size, radix: 16) + "\r\n"), "size \(size)")
            #expect(out.readableBytes == String(size, radix: 16).count + 2 + size + 2)
        }
    }

    @Test func aChunkFramedInPlaceIsTheSameBytesAsOneWrittenAfter() {
        for size in [1, 15, 16, 255, 256, 4096, 65_535, 1_048_577] {
            let payload = ByteBuffer(repeating: 0x61 + UInt8(size % 26), count: size)
            var written = ByteBufferAllocator().buffer(capacity: 0)
            ResponseEncoding.writeChunk(payload, into: &written)

            // The stream path: room left first, the payload written after it, framed in place.
            var inPlace = ByteBufferAllocator().buffer(capacity: 16)
            inPlace.moveWriterIndex(forwardBy: ResponseEncoding.chunkSizeLineRoom)
            inPlace.moveReaderIndex(forwardBy: ResponseEncoding.chunkSizeLineRoom)
            inPlace.writeImmutableBuffer(payload)
            ResponseEncoding.frameChunkInPlace(&inPlace)
            #expect(inPlace == written, "size \(size)")
        }
    }
}
