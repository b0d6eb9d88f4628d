/// Writes to a connection, with `drain` for flow control (asyncio's
/// `StreamWriter`).
@LoopActor
public final class StreamWriter {
    /// The connection's transport; `startTLS` replaces it with the TLS one.
    public private(set) var transport: any Transport
    private let drainGate: DrainGate
    private let reader: StreamReader?
    /// The connection's protocol, for `startTLS` (nil for a pipe's writer).
    private let streamProtocol: StreamReaderProtocol?

    init(transport: any Transport, drain: DrainGate, reader: StreamReader?, streamProtocol: StreamReaderProtocol? = nil) {
        self.transport = transport
        self.drainGate = drain
        self.reader = reader
        self.streamProtocol = streamProtocol
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

    /// Upgrades the connection to TLS (asyncio's `StreamWriter.start_tls`):
    /// sends what is buffered, runs the handshake, then the reader and this
    /// writer carry plaintext over TLS. The side is the connection's: a
    /// server's writer upgrades as the server. A client needs
    /// `serverHostname` when `context.checkHostname` is on.
    public func startTLS(_ context: SSLContext, serverHostname: String? = nil,
                         sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil) async throws {
        guard let streamProtocol else { throw TypeError("startTLS() needs the writer of a connection") }
        try await drain()
        let upgraded = try await streamProtocol.loop.startTLS(
            transport, protocol: streamProtocol, context: context, serverSide: streamProtocol.isServerSide,
            serverHostname: serverHostname, sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
        transport = upgraded
        streamProtocol.replaceTransport(upgraded)
    }

    /// Waits until the connection is closed.
    public func waitClosed() async throws {
        try await drainGate.closed.value
    }
}
