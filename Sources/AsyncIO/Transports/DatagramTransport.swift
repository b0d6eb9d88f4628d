/// The sending side of a datagram endpoint, as its protocol sees it
/// (asyncio's `DatagramTransport`).
@LoopActor
public protocol DatagramTransport: AnyObject {
    /// Sends `data` as one datagram to `addr`; at once if the socket takes
    /// it, else after the datagrams already buffered. An endpoint created
    /// with a remote address sends there: `addr` must then be nil or that
    /// address. Errors of the send itself go to the protocol's
    /// `errorReceived`; after the transport is closed, datagrams are dropped.
    func sendto(_ data: [UInt8], _ addr: SocketAddress?) throws(DatagramError)
    /// Closes once the buffered datagrams have gone; the protocol's
    /// `connectionLost(nil)` follows.
    func close()
    /// Closes at once, dropping buffered datagrams.
    func abort()
    var isClosing: Bool { get }
    /// `sockname`, `peername` (`SocketAddress`; nil when not connected) or
    /// `socket` (the descriptor, while open).
    func getExtraInfo(_ name: String) -> Any?
    /// Sets the water marks at which the protocol is paused and resumed
    /// (64 KiB and 16 KiB by default).
    func setWriteBufferLimits(high: Int?, low: Int?)
    /// Bytes buffered, counting 8 bytes of header per datagram as CPython does
    /// (asyncio's `get_write_buffer_size()`).
    var writeBufferSize: Int { get }
}

extension DatagramTransport {
    /// Sends `data` to the remote address the endpoint was created with.
    public func sendto(_ data: [UInt8]) throws(DatagramError) {
        try sendto(data, nil)
    }
}
