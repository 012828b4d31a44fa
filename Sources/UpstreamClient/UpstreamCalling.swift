/// What the gateway needs of a provider client: start a call, then steer it. `UpstreamClient`
/// (libcurl) is the product's only implementation; the seam exists so the benchmarks can run the
/// same gateway over another client and measure what the client itself costs (BENCHMARKS.md).
public protocol UpstreamCalling: AnyObject, Sendable {
    /// Starts a call; its events arrive at `delegate` (on any thread: the delegate hops).
    func startCall(_ request: UpstreamRequest, delegate: any UpstreamTransferDelegate) -> any UpstreamCall
}

/// One call in flight, as the gateway steers it.
public protocol UpstreamCall: AnyObject, Sendable {
    /// Stop reading from the provider until `resume()` (the client cannot take more).
    func pause()
    func resume()
    /// The gateway has taken `count` body bytes off the call's hands.
    func consumed(_ count: Int)
    /// Abort now; no further events.
    func cancel()
}

extension UpstreamClient: UpstreamCalling {
    public func startCall(_ request: UpstreamRequest, delegate: any UpstreamTransferDelegate) -> any UpstreamCall {
        send(request, delegate: delegate)
    }
}

extension UpstreamTransfer: UpstreamCall {}
