import SwitchyardJSON

/// Replaces `"model":"<upstream id>"` with the public id in streamed chunks, so clients see the
/// id they asked for. Works on the raw bytes of one event; whitespace around the colon allowed.
struct ModelFieldRewriter {
    private let key = Array("\"model\"".utf8)
    private let upstreamValue: [UInt8]
    private let publicValue: [UInt8]

    init(upstreamID: String, publicID: String) {
        var u: [UInt8] = [], p: [UInt8] = []
        JSONTopLevelScanner.appendQuoted(upstreamID, to: &u)
        JSONTopLevelScanner.appendQuoted(publicID, to: &p)
        upstreamValue = u; publicValue = p
    }

    /// Appends `event` to `out`, with the model value replaced where present.
    func rewrite(_ event: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = event.count
        var copiedUpTo = 0
        var from = 0
        while let i = ByteSearch.firstIndex(of: key, in: event, from: from) {
            from = i + key.count
            var j = i + key.count
            while j < n && (event[j] == 0x20 || event[j] == 0x09) { j += 1 }
            guard j < n && event[j] == UInt8(ascii: ":") else { continue }
            j += 1
            while j < n && (event[j] == 0x20 || event[j] == 0x09) { j += 1 }
            if j + upstreamValue.count <= n && matches(event, at: j, upstreamValue) {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: event[copiedUpTo..<j]))
                out.append(contentsOf: publicValue)
                copiedUpTo = j + upstreamValue.count
                from = copiedUpTo
            }
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: event[copiedUpTo...]))
    }

    private func matches(_ bytes: UnsafeRawBufferPointer, at start: Int, _ pattern: [UInt8]) -> Bool {
        for (k, b) in pattern.enumerated() where bytes[start + k] != b { return false }
        return true
    }
}
