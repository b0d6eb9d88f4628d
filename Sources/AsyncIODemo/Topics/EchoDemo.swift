import AsyncIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The echo server and client of the documentation's two I/O chapters.
/// Every line is `name: message`, as the scripts' logging prints them.
struct EchoDemo {
    enum Style {
        case `protocol`, streams
        /// The streams pair over TLS: the server's context (with its
        /// certificate) and the client's (what it trusts).
        case tlsStreams(server: SSLContext, client: SSLContext)
    }
    let style: Style
    /// Leaves out the server's per-connection lines (for load tests).
    var quiet = false
    /// Serves the protocol or streams style over TLS (`echo-server --cert`,
    /// for the TLS echo benchmark).
    var tls: SSLContext?

    static let documentMessages: [[UInt8]] = [
        Array("This is the message. ".utf8), Array("It will be sent ".utf8), Array("in parts.".utf8),
    ]

    /// Server and client in one process and one loop, on a free port.
    func runBoth() throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        try loop.runUntilComplete {
            let server = try await startServer(loop, host: "localhost", port: 0)
            let port = server.addresses.first?.port ?? 0
            logLine("main", "starting up on localhost port \(port)")
            try await runClient(loop, host: "localhost", port: port, messages: Self.documentMessages)
            logLine("main", "closing server")
            server.close()
            try await server.waitClosed()
        }
        logLine("main", "closing event loop")
    }

    /// Only the server, until SIGINT or SIGTERM.
    func serve(host: String, port: Int) throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        let server = try describingFailures(host: host, port: port, action: "listen on") {
            try loop.runUntilComplete { try await startServer(loop, host: host, port: port) }
        }
        let boundPort = loop.withIsolation { server.addresses.first?.port ?? port }
        // Ready for SIGINT and SIGTERM before saying so: whoever reads the
        // line may signal at once, and sees the server fully set up.
        try loop.withIsolation {
            for signal in [SIGINT, SIGTERM] { try loop.addSignalHandler(signal) { loop.stop() } }
        }
        logLine("main", "starting up on \(host) port \(boundPort)")
        try loop.runForever()
        logLine("main", "closing server")
        try loop.runUntilComplete { try await shutDown(server, loop) }
        logLine("main", "closing event loop")
    }

    /// How long live connections get to send what they have buffered
    /// before they are aborted.
    static let closeGracePeriod = 1.0

    /// Stops listening, closes the live connections (aborting those that do
    /// not finish within the grace period, or at once on another signal),
    /// then cancels whatever tasks are left, as `asyncio.run` does.
    @LoopActor
    private func shutDown(_ server: Server, _ loop: EventLoop) async throws {
        for signal in [SIGINT, SIGTERM] { try loop.addSignalHandler(signal) { server.abortClients() } }
        server.close()
        server.closeClients()
        let abortLate = loop.callLater(Self.closeGracePeriod) { server.abortClients() }
        try await server.waitClosed()
        abortLate.cancel()
        let current = currentLoopTask()
        let leftover = loop.allTasks().filter { $0 !== current }
        for task in leftover { task.cancel(message: nil) }
        for task in leftover { try? await task.waitUntilDone() }
    }

    /// Only the client, against a server elsewhere.
    func connect(to endpoint: Endpoint, messages: [[UInt8]]) throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        try describingFailures(host: endpoint.host, port: endpoint.port, action: "connect to") {
            try loop.runUntilComplete {
                try await runClient(loop, host: endpoint.host, port: endpoint.port, messages: messages)
            }
        }
        logLine("main", "closing event loop")
    }

    @LoopActor
    private func startServer(_ loop: EventLoop, host: String, port: Int) async throws -> Server {
        switch style {
        case .protocol:
            try await loop.createServer({ [quiet] in EchoServer(quiet: quiet) }, host: host, port: port, ssl: tls)
        case .streams:
            try await loop.startServer({ [quiet] in try await echo($0, $1, quiet: quiet) }, host: host, port: port,
                                       ssl: tls)
        case .tlsStreams(let context, _):
            try await loop.startServer({ [quiet] in try await sslEcho($0, $1, quiet: quiet) }, host: host, port: port,
                                       ssl: context)
        }
    }

    @LoopActor
    private func runClient(_ loop: EventLoop, host: String, port: Int, messages: [[UInt8]]) async throws {
        switch style {
        case .protocol:
            let done = Future<Bool>(loop: loop)
            logLine("main", "waiting for client to complete")
            _ = try await loop.createConnection({ EchoClient(messages: messages, done: done) }, host: host, port: port)
            _ = try await done.value
        case .streams:
            try await echoClient(loop, host: host, port: port, messages: messages)
        case .tlsStreams(_, let context):
            try await echoClient(loop, host: host, port: port, messages: messages, ssl: context)
        }
    }

    /// Turns the errors a user can cause into one readable line.
    private func describingFailures<T>(host: String, port: Int, action: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GAIError {
            throw DemoFailure(message: "cannot resolve \(pythonRepr(host)): [Errno \(error.code)] \(error.message)")
        } catch let error as OSError {
            throw DemoFailure(message: "cannot \(action) \(host) port \(port): [Errno \(error.errno)] \(error.message)")
        } catch let error as ConnectionErrors {
            throw DemoFailure(message: "cannot \(action) \(host) port \(port): \(error)")
        } catch let error as SSLCertVerificationError {
            throw DemoFailure(message: "TLS with \(host) port \(port) failed: \(error)")
        } catch let error as SSLError {
            throw DemoFailure(message: "TLS with \(host) port \(port) failed: \(error)")
        }
    }
}

/// Prints one log line and flushes it at once, so a server's output is
/// seen as it happens even when it goes to a pipe or a file. Once standard
/// output has failed (its reader went away), logging stops and the server
/// carries on.
func logLine(_ name: String, _ message: String) {
    guard !standardOutputFailed.load(ordering: .relaxed) else { return }
    print("\(name): \(message)")
    if fflush(nil) != 0 { standardOutputFailed.store(true, ordering: .relaxed) }
}

/// Set once writing to standard output has failed.
let standardOutputFailed = Atomic<Bool>(false)

/// The name a connection logs under, as the scripts build it from the peer.
@LoopActor
func peerName(_ prefix: String, _ peer: Any?) -> String {
    guard let address = peer as? SocketAddress else { return "\(prefix)_unknown" }
    return "\(prefix)_\(address.host)_\(address.port)"
}

// MARK: protocol

// Protocol classes: asyncio_echo_server_protocol.py, asyncio_echo_client_protocol.py.

@LoopActor
final class EchoServer: StreamingProtocol {
    private var transport: (any Transport)?
    private var name = "EchoServer"
    private let quiet: Bool

    init(quiet: Bool = false) { self.quiet = quiet }

    /// The message is built only when it is printed: formatting every
    /// message cost more than echoing it.
    private func log(_ name: String, _ message: @autoclosure () -> String) {
        if !quiet { logLine(name, message()) }
    }

    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        name = peerName("EchoServer", transport.getExtraInfo("peername"))
        log(name, "connection accepted")
    }

    func dataReceived(_ data: [UInt8]) {
        log(name, "received \(pythonRepr(bytes: data))")
        transport?.write(data)
        log(name, "sent \(pythonRepr(bytes: data))")
    }

    func eofReceived() -> Bool {
        log(name, "received EOF")
        if let transport, transport.canWriteEof() { transport.writeEof() }
        return false
    }

    func connectionLost(_ error: (any Error)?) {
        if let error {
            log(name, "ERROR: \(error)")
        } else {
            log(name, "closing")
        }
    }
}

@LoopActor
final class EchoClient: StreamingProtocol {
    private let messages: [[UInt8]]
    private let done: Future<Bool>
    private var transport: (any Transport)?

    init(messages: [[UInt8]], done: Future<Bool>) {
        self.messages = messages
        self.done = done
    }

    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        let peer = transport.getExtraInfo("peername") as? SocketAddress
        logLine("EchoClient", "connecting to \(peer?.host ?? "?") port \(peer?.port ?? 0)")
        for message in messages {
            transport.write(message)
            logLine("EchoClient", "sending \(pythonRepr(bytes: message))")
        }
        if transport.canWriteEof() { transport.writeEof() }
    }

    func dataReceived(_ data: [UInt8]) {
        logLine("EchoClient", "received \(pythonRepr(bytes: data))")
    }

    func eofReceived() -> Bool {
        logLine("EchoClient", "received EOF")
        transport?.close()
        if !done.isDone { try? done.setResult(true) }
        return false
    }

    func connectionLost(_ error: (any Error)?) {
        logLine("EchoClient", "server closed connection")
        transport?.close()
        if !done.isDone { try? done.setResult(true) }
    }
}

// MARK: streams

// Streams: asyncio_echo_server_coroutine.py, asyncio_echo_client_coroutine.py.

@LoopActor
func echo(_ reader: StreamReader, _ writer: StreamWriter, quiet: Bool = false) async throws {
    func log(_ name: String, _ message: @autoclosure () -> String) {
        if !quiet { logLine(name, message()) }
    }
    let name = peerName("echo", writer.getExtraInfo("peername"))
    log(name, "connection accepted")
    do {
        while true {
            // The documentation reads 128 bytes at a time; a quiet server, run
            // for load tests, reads as much as is there, as the baselines do.
            let data = try await reader.read(quiet ? 64 * 1024 : 128)
            if data.isEmpty { break }
            log(name, "received \(pythonRepr(bytes: data))")
            writer.write(data)
            try await writer.drain()
            log(name, "sent \(pythonRepr(bytes: data))")
        }
    } catch let error as OSError where [ECONNRESET, EPIPE].contains(error.errno) {
        // A client that resets or goes away unread ends its connection:
        // for an echo server that is a normal end, not a failure.
    }
    log(name, "closing")
    writer.close()
}

/// With `ssl`, asyncio_echo_client_ssl.py's: TLS cannot close one
/// direction (`writeEof`), so a NUL byte ends the message.
@LoopActor
func echoClient(_ loop: EventLoop, host: String, port: Int, messages: [[UInt8]], ssl: SSLContext? = nil) async throws {
    logLine("echo_client", "connecting to \(host) port \(port)")
    let (reader, writer) = try await loop.openConnection(host: host, port: port, ssl: ssl)
    for message in messages {
        writer.write(message)
        logLine("echo_client", "sending \(pythonRepr(bytes: message))")
    }
    if ssl == nil { writer.writeEof() } else { writer.write([0]) }
    try await writer.drain()
    logLine("echo_client", "waiting for response")
    while true {
        let data = try await reader.read(128)
        if data.isEmpty {
            logLine("echo_client", "closing")
            writer.close()
            return
        }
        logLine("echo_client", "received \(pythonRepr(bytes: data))")
    }
}
