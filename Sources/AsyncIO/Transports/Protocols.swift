/// asyncio's protocol callbacks, common to every kind of connection
/// (asyncio's `BaseProtocol`). The transport calls them on the loop.
@LoopActor
public protocol BaseProtocol: AnyObject {
    /// The connection is set up; `transport` is how to talk back.
    func connectionMade(_ transport: any Transport)
    /// The connection is gone: nil after a normal close or EOF, else the error.
    func connectionLost(_ error: (any Error)?)
    /// The transport's write buffer went over its high-water mark.
    func pauseWriting()
    /// The transport's write buffer drained below its low-water mark.
    func resumeWriting()
}

extension BaseProtocol {
    public func connectionMade(_ transport: any Transport) {}
    public func connectionLost(_ error: (any Error)?) {}
    public func pauseWriting() {}
    public func resumeWriting() {}
}

/// A protocol for byte streams (asyncio's `Protocol`, renamed so as not to
/// clash with Swift's `Protocol`).
@LoopActor
public protocol StreamingProtocol: BaseProtocol {
    /// Some bytes arrived.
    func dataReceived(_ data: [UInt8])
    /// The peer closed its side. Return true to keep the transport open
    /// for writing (half-close); false closes it.
    func eofReceived() -> Bool
}

extension StreamingProtocol {
    public func eofReceived() -> Bool { false }
}

/// A byte-stream protocol that supplies the buffer the transport reads
/// into, saving a copy per read (asyncio's `BufferedProtocol`).
@LoopActor
public protocol BufferedProtocol: BaseProtocol {
    /// A buffer to read into, at least one byte long; `sizeHint` is what the
    /// transport would like (0 when it has no preference).
    func getBuffer(_ sizeHint: Int) -> UnsafeMutableRawBufferPointer
    /// `count` bytes were written at the start of the last buffer.
    func bufferUpdated(_ count: Int)
    func eofReceived() -> Bool
}

extension BufferedProtocol {
    public func eofReceived() -> Bool { false }
}

/// The transport side of a connection, as a protocol sees it (asyncio's
/// `Transport`).
@LoopActor
public protocol Transport: AnyObject {
    /// Sends `data`, at once if the socket takes it, else after what is buffered.
    func write(_ data: [UInt8])
    /// Sends several buffers together.
    func writelines(_ chunks: [[UInt8]])
    /// Closes the sending side after the buffered data has gone.
    func writeEof()
    func canWriteEof() -> Bool
    /// Closes after the buffered data has gone; the protocol's
    /// `connectionLost(nil)` follows.
    func close()
    /// Closes at once, dropping buffered data.
    func abort()
    var isClosing: Bool { get }
    /// `peername`, `sockname` (`SocketAddress`) or `socket` (the descriptor).
    func getExtraInfo(_ name: String) -> Any?
    func pauseReading()
    func resumeReading()
    var isReading: Bool { get }
    /// Sets the water marks at which the protocol is paused and resumed.
    func setWriteBufferLimits(high: Int?, low: Int?)
    var writeBufferSize: Int { get }
}
