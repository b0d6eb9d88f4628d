/// Writes to a connection, with `drain` for flow control (asyncio's
/// `StreamWriter`).
@LoopActor
public final class StreamWriter {
    public let transport: any Transport
    private let drainGate: DrainGate
    private let reader: StreamReader?

    init(transport: any Transport, drain: DrainGate, reader: StreamReader?) {
        self.transport = transport
        self.drainGate = drain
        self.reader = reader
    }

    public func write(_ data: [UInt8]) { transport.write(data) }
    public func writelines(_ chunks: [[UInt8]]) { transport.writelines(chunks) }
    public func writeEof() { transport.writeEof() }
    public func canWriteEof() -> Bool { transport.canWriteEof() }
    public func close() { transport.close() }
    public var isClosing: Bool { transport.isClosing }
    public func getExtraInfo(_ name: String) -> Any? { transport.getExtraInfo(name) }

    /// Waits until the transport's buffer is back under its low-water mark
    /// (at once if it is not over the high one); throws if the connection
    /// was lost.
    public func drain() async throws {
        if let error = reader?.exception { throw error }
        if transport.isClosing {
            // Let connectionLost run first, so drain reports the loss.
            try await sleep(0)
        }
        try await drainGate.wait()
    }

    /// Waits until the connection is closed.
    public func waitClosed() async throws {
        try await drainGate.closed.value
    }
}
