import CJSONScan

/// The object keys a streamed event carries that the gateway acts on, found in one pass.
///
/// Why a walk over whole strings rather than searching for `"model":`, `"delta":` and `"usage":{`:
/// a substring search cannot tell a key from the same bytes inside a string value (it once
/// rewrote the value of a key named `x\"model`), and four searches per event cost ~2.4k
/// instructions of a ~29k chunk (`make bench-check PROFILE=1`, stream phase). The walk finds the
/// quotes (SSE2, 16 bytes a step), skips each string whole (escapes included), and takes a string
/// followed by a colon as a key. Lines are walked separately: JSON text in an SSE `data:` line
/// never spans lines, so a stray quote elsewhere (a comment line) cannot shift the rest of the
/// event. In C (`sy_sse_event_keys`), ~1.3k instructions per chunk: the same walk in Swift
/// with `memchr` cost as much as the four searches.
struct SSEEventKeys {
    /// A `"delta"` key: the event carries a content chunk (counted to estimate a cut stream).
    var sawDelta = false
    /// A `"usage"` key whose value is an object.
    var sawUsageObject = false

    /// Scans `event`; appends to `modelValues` the range of each `"model"` key's string value,
    /// quotes included (`modelValues` is the caller's, so its capacity is reused event to event).
    static func scan(_ event: UnsafeRawBufferPointer, modelValues: inout [Range<Int>]) -> SSEEventKeys {
        guard let base = event.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return SSEEventKeys() }
        // A chunk has one `model` key; room for a few more on the stack, and a second call in
        // the rare event with more.
        var found: Int32 = 0
        var total = 0
        let before = modelValues.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 8) { room in
            found = sy_sse_event_keys(base, event.count, room.baseAddress!, 4, &total)
            for i in 0..<min(total, 4) { modelValues.append(room[2 * i]..<room[2 * i + 1]) }
        }
        if total > 4 {
            var room = [Int](repeating: 0, count: 2 * total)
            _ = sy_sse_event_keys(base, event.count, &room, total, &total)
            modelValues.removeSubrange(before...)
            for i in 0..<total { modelValues.append(room[2 * i]..<room[2 * i + 1]) }
        }
        return SSEEventKeys(sawDelta: found & Int32(SY_SSE_DELTA) != 0,
                            sawUsageObject: found & Int32(SY_SSE_USAGE_OBJECT) != 0)
    }
}
