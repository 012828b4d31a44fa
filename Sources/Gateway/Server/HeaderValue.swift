/// A header value as RFC 9110 §5.5 defines it: without the spaces and tabs around it. NIO's
/// parser keeps trailing ones (`Bearer KEY ` reached the key lookup with its space).
enum HeaderValue {
    @inline(__always)
    static func trimmed(_ value: String) -> Substring {
        Substring(trimmed(Substring(value).utf8))
    }

    @inline(__always)
    static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        var bytes = bytes
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return bytes
    }
}
