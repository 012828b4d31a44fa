/// Builds the binary keys and values stored in LMDB (the key store's records, the usage store's
/// keys and values). Keys are big-endian so LMDB's bytewise order is numeric order; values are
/// little-endian (the machine's order, cheap to read).
/// Members are `@inlinable`: the key store (another module) decodes a record on every request.
public struct ByteWriter {
    public var bytes: [UInt8] = []

    @inlinable public init(capacity: Int = 32) { bytes.reserveCapacity(capacity) }

    @inlinable public mutating func u8(_ v: UInt8) { bytes.append(v) }

    // Whole words are appended in one piece: a byte at a time was a capacity check per byte.
    @inlinable public mutating func int64LE(_ v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable public mutating func uint64BE(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Signed values in keys: flipping the sign bit makes bytewise order match numeric order.
    @inlinable public mutating func int64Key(_ v: Int64) { uint64BE(UInt64(bitPattern: v) ^ (1 << 63)) }

    /// Signed 32-bit values in keys, ordered like `int64Key`.
    @inlinable public mutating func int32Key(_ v: Int32) {
        let x = UInt32(bitPattern: v) ^ (1 << 31)
        withUnsafeBytes(of: x.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// u16 little-endian length, then the UTF-8 bytes. Callers validate the length first.
    @inlinable public mutating func string16(_ text: String) {
        let utf8 = text.utf8
        precondition(utf8.count <= Int(UInt16.max), "caller must validate string lengths")
        bytes.append(UInt8(truncatingIfNeeded: utf8.count))
        bytes.append(UInt8(truncatingIfNeeded: utf8.count >> 8))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what `ByteWriter` wrote, straight from LMDB's memory map. Every read returns nil past
/// the end, so a truncated or foreign value is reported as corrupt rather than crashing.
public struct ByteReader {
    public let buffer: UnsafeRawBufferPointer
    public var offset = 0

    @inlinable public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    @inlinable public var atEnd: Bool { offset == buffer.count }

    @inlinable public mutating func u8() -> UInt8? {
        guard offset < buffer.count else { return nil }
        defer { offset += 1 }
        return buffer[offset]
    }

    @inlinable public mutating func int64LE() -> Int64? {
        guard buffer.count - offset >= 8 else { return nil }
        defer { offset += 8 }
        return Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    @inlinable public mutating func uint64BE() -> UInt64? {
        guard buffer.count - offset >= 8 else { return nil }
        var x: UInt64 = 0
        for i in 0..<8 { x = x << 8 | UInt64(buffer[offset + i]) }
        offset += 8
        return x
    }

    @inlinable public mutating func int64Key() -> Int64? { uint64BE().map { Int64(bitPattern: $0 ^ (1 << 63)) } }

    @inlinable public mutating func int32Key() -> Int32? {
        guard buffer.count - offset >= 4 else { return nil }
        var x: UInt32 = 0
        for i in 0..<4 { x = x << 8 | UInt32(buffer[offset + i]) }
        offset += 4
        return Int32(bitPattern: x ^ (1 << 31))
    }

    @inlinable public mutating func string16() -> String? {
        guard let lo = u8(), let hi = u8() else { return nil }
        let n = Int(lo) | Int(hi) << 8
        guard buffer.count - offset >= n else { return nil }
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + n]), as: UTF8.self)
    }

    /// The bytes up to the next 0 (consumed), or to the end if there is none.
    @inlinable public mutating func rawUntilZero() -> String {
        var end = offset
        while end < buffer.count, buffer[end] != 0 { end += 1 }
        defer { offset = min(end + 1, buffer.count) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<end]), as: UTF8.self)
    }

    @inlinable public mutating func rest() -> String {
        defer { offset = buffer.count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset...]), as: UTF8.self)
    }
}
