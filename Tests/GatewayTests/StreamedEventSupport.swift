import NIOCore
@testable import Gateway

/// One event through the gateway's own path: `SSEEventKeys.scan`, then `ModelFieldRewriter`.
func rewriteEvent(_ event: [UInt8], upstream: String, publicID: String) -> [UInt8] {
    var out = ByteBuffer()
    event.withUnsafeBytes { raw in
        var values: [Range<Int>] = []
        _ = SSEEventKeys.scan(raw, modelValues: &values)
        ModelFieldRewriter(upstreamID: upstream, publicID: publicID).write(raw, modelValues: values, into: &out)
    }
    return Array(out.readableBytesView)
}

/// One event through `SSEEventKeys.scan`, then `UsageTap.inspect`.
func inspectEvent(_ tap: inout UsageTap, _ event: [UInt8]) -> Bool {
    event.withUnsafeBytes { raw in
        var values: [Range<Int>] = []
        return tap.inspect(event: raw, keys: SSEEventKeys.scan(raw, modelValues: &values))
    }
}
