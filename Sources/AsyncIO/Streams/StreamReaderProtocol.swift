#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Connects a transport to a `StreamReader`, and gives the `StreamWriter`
/// its flow control (asyncio's `StreamReaderProtocol`).
@LoopActor
final class StreamReaderProtocol: StreamingProtocol {
    let reader: StreamReader
    let loop: EventLoop
    /// A server's connection (it was given a handler): `startTLS` upgrades as the server.
    let isServerSide: Bool
    /// For servers: called with each new connection's reader and writer.
    /// Let go of once its task is started: a handler that keeps the writer
    /// (which holds this protocol) would otherwise make a cycle.
    private var clientConnected: (@LoopActor (StreamReader, StreamWriter) async throws -> Void)?
    private(set) var writer: StreamWriter?
    let drain: DrainGate
    /// TLS cannot half-close, so over it EOF closes the connection (asyncio's `_over_ssl`).
    private var overSSL = false

    init(reader: StreamReader, loop: EventLoop,
         clientConnected: (@LoopActor (StreamReader, StreamWriter) async throws -> Void)? = nil) {
        self.reader = reader
        self.loop = loop
        self.clientConnected = clientConnected
        self.isServerSide = clientConnected != nil
        self.drain = DrainGate(loop: loop)
    }

    func connectionMade(_ transport: any Transport) {
        reader.setTransport(transport)
        overSSL = transport.getExtraInfo("sslcontext") != nil
        guard let clientConnected else { return }
        self.clientConnected = nil
        let writer = StreamWriter(transport: transport, drain: drain, reader: reader, streamProtocol: self)
        self.writer = writer
        let reader = self.reader
        let task = loop.createTask(coroutine: "client_connected_cb") { try await clientConnected(reader, writer) }
        task.addDoneCallback { task in
            // A failing handler closes its connection and is reported, as in asyncio.
            guard !task.isCancelled, let error = try? task.exception() else { return }
            task.loop.callExceptionHandler(ExceptionContext(
                message: "Unhandled exception in client_connected_cb", error: error, future: task))
            transport.close()
        }
    }

    /// After `startTLS`: the reader pauses and resumes the TLS transport,
    /// and EOF closes, as TLS cannot half-close (asyncio's `_replace_transport`).
    func replaceTransport(_ transport: any Transport) {
        reader.setTransport(transport)
        overSSL = transport.getExtraInfo("sslcontext") != nil
    }

    func dataReceived(_ data: [UInt8]) { reader.feedData(data) }

    func eofReceived() -> Bool {
        reader.feedEof()
        return !overSSL  // keep the transport open so the writer can still send
    }

    func connectionLost(_ error: (any Error)?) {
        if let error { reader.setException(error) } else { reader.feedEof() }
        // The writer holds the transport, which holds this protocol until
        // now: keeping the writer would keep all three alive.
        writer = nil
        drain.connectionLost(error)
    }

    func pauseWriting() { drain.pause() }

    func resumeWriting() { drain.resume() }
}
