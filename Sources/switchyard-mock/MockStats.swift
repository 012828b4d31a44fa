import Foundation

/// Process-wide counters behind `GET /mock/stats`. Tests read them to prove what the gateway did
/// upstream: how many calls it made, whether it reused connections, and whether it cancelled a
/// stream when its own client went away.
///
/// Updated from every event loop, so guarded by a lock; each update is a few integer ops, far
/// cheaper than anything else on the request path.
final class MockStats: @unchecked Sendable {  // @unchecked: all mutable state is behind `lock`.
    /// How a streamed reply ended.
    enum StreamOutcome {
        case completed   // every frame including `[DONE]` was written
        case cancelled   // the client closed the connection first
        case aborted     // the mock cut it on purpose (the `disconnect` fault)
    }

    private let lock = NSLock()
    private var requests = 0
    private var sequence = 0
    private var activeStreams = 0
    private var completedStreams = 0
    private var cancelledStreams = 0
    private var abortedStreams = 0
    private var hanging = 0
    private var connectionsOpened = 0
    private var connectionsActive = 0

    /// Counts one API request and returns a number unique in this process (for response ids).
    func requestReceived() -> Int {
        lock.lock(); defer { lock.unlock() }
        requests += 1
        sequence += 1
        return sequence
    }

    func streamStarted() {
        lock.lock(); defer { lock.unlock() }
        activeStreams += 1
    }

    func streamEnded(_ outcome: StreamOutcome) {
        lock.lock(); defer { lock.unlock() }
        activeStreams -= 1
        switch outcome {
        case .completed: completedStreams += 1
        case .cancelled: cancelledStreams += 1
        case .aborted: abortedStreams += 1
        }
    }

    func hangStarted() {
        lock.lock(); defer { lock.unlock() }
        hanging += 1
    }

    func hangEnded() {
        lock.lock(); defer { lock.unlock() }
        hanging -= 1
    }

    func connectionOpened() {
        lock.lock(); defer { lock.unlock() }
        connectionsOpened += 1
        connectionsActive += 1
    }

    func connectionClosed() {
        lock.lock(); defer { lock.unlock() }
        connectionsActive -= 1
    }

    /// Zeroes the totals. Gauges (active streams, hanging requests, open connections) describe
    /// live state and are kept.
    func reset() {
        lock.lock(); defer { lock.unlock() }
        requests = 0
        completedStreams = 0
        cancelledStreams = 0
        abortedStreams = 0
        connectionsOpened = connectionsActive
    }

    func json() -> String {
        lock.lock(); defer { lock.unlock() }
        return "{\"requests\":\(requests),\"active_streams\":\(activeStreams)"
            + ",\"cancelled_streams\":\(cancelledStreams),\"completed_streams\":\(completedStreams)"
            + ",\"aborted_streams\":\(abortedStreams),\"hanging\":\(hanging)"
            + ",\"connections_opened\":\(connectionsOpened),\"connections_active\":\(connectionsActive)}"
    }
}
