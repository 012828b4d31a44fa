import Glibc
import Synchronization

/// Wall-clock time in Unix milliseconds, injected into everything that reasons about windows and
/// UTC days so tests can drive time by hand.
///
/// Not named `Clock`: the standard library's `Swift.Clock` (with `ContinuousClock`, used by NIO
/// code in the gateway) would make the bare name ambiguous in files that import this module.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    func nowMillis() -> Int64
}

/// The system's real-time clock (`CLOCK_REALTIME`). It can step backwards (NTP): the limiters
/// treat a time earlier than stored state as "no time has passed", never as negative time.
public struct SystemClock: WallClock {
    public init() {}

    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to, for deterministic tests. Safe to share across threads.
public final class ManualClock: WallClock {
    private let millis: Atomic<Int64>

    public init(millis: Int64) { self.millis = Atomic(millis) }

    public func nowMillis() -> Int64 { millis.load(ordering: .relaxed) }

    public func set(millis: Int64) { self.millis.store(millis, ordering: .relaxed) }

    public func advance(millis delta: Int64) { _ = millis.add(delta, ordering: .relaxed) }

    public func advance(seconds: Int64) { advance(millis: seconds * 1000) }
}
