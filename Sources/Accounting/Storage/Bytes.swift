import LMDBSupport

/// Days in the usage store's keys: big-endian with the sign bit flipped, so a scan by key walks
/// the days in order.
extension ByteWriter {
    mutating func dayKey(_ day: UTCDay) { int32Key(day.daysSinceEpoch) }
}

extension ByteReader {
    mutating func dayKey() -> UTCDay? { int32Key().map { UTCDay(daysSinceEpoch: $0) } }
}
