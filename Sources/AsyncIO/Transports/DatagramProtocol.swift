/// The callbacks of a datagram endpoint (asyncio's `DatagramProtocol`). The
/// transport calls them on the loop. Not a `BaseProtocol`: its
/// `connectionMade` is given a `DatagramTransport`, which has no byte stream
/// to write to.
@LoopActor
public protocol DatagramProtocol: AnyObject {
    /// The endpoint is set up; `transport` is how to send.
    func connectionMade(_ transport: any DatagramTransport)
    /// A datagram arrived from `addr` (the peer, for a connected endpoint).
    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress)
    /// A send or receive failed; the endpoint stays open. On a connected
    /// endpoint an ICMP port unreachable from the peer comes here as
    /// `ECONNREFUSED` (Python's `ConnectionRefusedError`).
    func errorReceived(_ error: OSError)
    /// The endpoint is closed: nil after `close()` or `abort()`, else the error.
    func connectionLost(_ error: (any Error)?)
    /// The transport's send buffer went over its high-water mark.
    func pauseWriting()
    /// The transport's send buffer drained to its low-water mark.
    func resumeWriting()
}

extension DatagramProtocol {
    public func connectionMade(_ transport: any DatagramTransport) {}
    public func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) {}
    public func errorReceived(_ error: OSError) {}
    public func connectionLost(_ error: (any Error)?) {}
    public func pauseWriting() {}
    public func resumeWriting() {}
}
