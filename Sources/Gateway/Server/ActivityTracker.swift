import NIOCore
import Synchronization

/// Open connections and requests in flight, for graceful shutdown: stop accepting, let
/// requests finish (bounded by the grace period), close idle connections at once.
final class ActivityTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var requestsInFlight = 0
    }
    private let state = Mutex(State())
    let draining = Atomic<Bool>(false)

    func opened(_ channel: any Channel) { state.withLock { $0.channels[ObjectIdentifier(channel)] = channel } }
    func closed(_ channel: any Channel) { state.withLock { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }
    func requestStarted() { state.withLock { $0.requestsInFlight += 1 } }
    func requestFinished() { state.withLock { $0.requestsInFlight -= 1 } }

    var requestsInFlight: Int { state.withLock { $0.requestsInFlight } }
    var channels: [any Channel] { state.withLock { Array($0.channels.values) } }
}

/// Sent down every connection's pipeline when the server starts draining.
struct DrainEvent: Sendable {}
