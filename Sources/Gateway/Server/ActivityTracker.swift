import NIOCore
import Synchronization

/// Open connections and requests in flight, for graceful shutdown: stop accepting, let
/// requests finish (bounded by the grace period), close idle connections at once.
final class ActivityTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var requestsInFlight = 0
        /// Requests whose head has arrived and whose body is still coming: a drain waits for
        /// them too (they count in `requestsInFlight` only once their provider call starts).
        var bodiesArriving = 0
    }
    private let state = Mutex(State())
    let draining = Atomic<Bool>(false)

    func opened(_ channel: any Channel) { state.withLock { $0.channels[ObjectIdentifier(channel)] = channel } }
    func closed(_ channel: any Channel) { state.withLock { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }
    func requestStarted() { state.withLock { $0.requestsInFlight += 1 } }
    func requestFinished() { state.withLock { $0.requestsInFlight -= 1 } }

    func bodyStarted() { state.withLock { $0.bodiesArriving += 1 } }
    func bodyEnded() { state.withLock { $0.bodiesArriving -= 1 } }

    var requestsInFlight: Int { state.withLock { $0.requestsInFlight } }
    /// Requests a drain must wait for: in flight, or still arriving.
    var unfinishedRequests: Int { state.withLock { $0.requestsInFlight + $0.bodiesArriving } }
    var channels: [any Channel] { state.withLock { Array($0.channels.values) } }
}

/// Sent down every connection's pipeline when the server starts draining.
struct DrainEvent: Sendable {}
