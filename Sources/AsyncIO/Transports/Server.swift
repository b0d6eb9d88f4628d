#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Listening sockets that accept connections and give each a transport and
/// a new protocol (asyncio's `Server`).
@LoopActor
public final class Server: LoopResource {
    private let loop: EventLoop
    private let protocolFactory: @LoopActor () -> any BaseProtocol
    private let backlog: Int
    /// Set for a TLS server: every accepted connection gets a TLS layer.
    private let tls: TLSSettings?
    private var listeners: [Int32]
    /// The addresses the server listens on (what asyncio's
    /// `[s.getsockname() for s in server.sockets]` gives).
    public let addresses: [SocketAddress]
    private var serving = false
    private var closed = false
    /// The connections accepted and not yet lost, by socket transport:
    /// the transport `closeClients` and `abortClients` act on (the TLS
    /// layer's, for a TLS connection, so that closing sends close_notify).
    private var clients: [ObjectIdentifier: any Transport] = [:]
    private var closeWaiters: [Future<Void>] = []
    private var servingForever: Future<Void>?
    /// Set while accepting is paused because descriptors ran out.
    private var acceptRetry: TimerHandle?

    /// How long accepting pauses when the process is out of descriptors.
    static let acceptRetryDelay = 1.0

    init(loop: EventLoop, listeners: [Int32], backlog: Int, protocolFactory: @escaping @LoopActor () -> any BaseProtocol,
         tls: TLSSettings? = nil) {
        self.loop = loop
        self.tls = tls
        self.listeners = listeners
        self.backlog = backlog
        self.protocolFactory = protocolFactory
        self.addresses = listeners.compactMap(Socket.localAddress)
        loop.openResources.insert(self)
    }

    public var isServing: Bool { serving }

    var unclosedName: String? {
        "server <Server sockets=[\(addresses.map { "\($0)" }.joined(separator: ", "))]>"
    }

    /// Starts accepting connections; does nothing if already serving.
    public func startServing() throws {
        guard !serving, !closed else { return }
        serving = true
        for fd in listeners {
            try loop.addReader(fd, label: "accept") { [self] in acceptReady(fd) }
        }
    }

    /// Serves until the calling task is cancelled, then closes the server.
    public func serveForever() async throws {
        precondition(servingForever == nil, "server is already being awaited on serveForever()")
        precondition(!closed, "server is closed")
        try startServing()
        let forever = Future<Void>(loop: loop)
        servingForever = forever
        defer { servingForever = nil }
        do {
            try await forever.value
        } catch {
            close()
            try? await waitClosed()
            throw error
        }
    }

    /// Accepts, per readiness event, up to `backlog` connections, as asyncio does.
    private func acceptReady(_ listener: Int32) {
        for _ in 0..<backlog {
            do {
                guard case .processed(let (fd, _)) = try Socket.accept(listener) else { return }
                do {
                    _ = try loop.makeSocketTransport(fd: fd, protocol: protocolFactory(), server: self, tls: tls)
                } catch {
                    SystemCall.close(fd)
                    loop.callExceptionHandler(ExceptionContext(message: "Error on setting up an accepted connection", error: error))
                }
            } catch where [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) {
                // Out of descriptors or memory: stop accepting for a while,
                // say so once, and try again later.
                loop.callExceptionHandler(ExceptionContext(
                    message: "socket.accept() out of system resource", error: error))
                pauseAccepting()
                return
            } catch {
                loop.callExceptionHandler(ExceptionContext(message: "Error on accepting a connection", error: error))
                return
            }
        }
    }

    private func pauseAccepting() {
        for fd in listeners { loop.removeReader(fd) }
        serving = false
        acceptRetry = loop.callLater(Self.acceptRetryDelay, label: "accept retry") { [weak self] in
            guard let self, !closed else { return }
            acceptRetry = nil
            try startServing()
        }
    }

    /// Stops listening; connections already accepted stay open (see
    /// `closeClients` and `abortClients`).
    public func close() {
        guard !closed else { return }
        closed = true
        serving = false
        acceptRetry?.cancel()
        for fd in listeners {
            loop.removeReader(fd)
            SystemCall.close(fd)
        }
        listeners = []
        loop.openResources.remove(self)
        servingForever?.cancel()
        wakeCloseWaitersIfDone()
    }

    func endAtLoopClose() { close() }

    /// Closes every accepted connection that is still open, each after its
    /// buffered data has gone (asyncio 3.13's `close_clients`).
    public func closeClients() {
        for transport in clients.values { transport.close() }
    }

    /// Closes every accepted connection at once, dropping buffered data
    /// (asyncio 3.13's `abort_clients`).
    public func abortClients() {
        for transport in clients.values { transport.abort() }
    }

    /// Waits until the server is closed and its connections have ended.
    public func waitClosed() async throws {
        guard !(closed && clients.isEmpty) else { return }
        let waiter = Future<Void>(loop: loop)
        closeWaiters.append(waiter)
        try await waiter.value
    }

    func attach(_ transport: any Transport) { clients[ObjectIdentifier(transport)] = transport }

    /// `transport`'s connection is closed and aborted through `face` from now on.
    func present(_ transport: any Transport, as face: any Transport) {
        let key = ObjectIdentifier(transport)
        if clients[key] != nil { clients[key] = face }
    }

    func detach(_ transport: any Transport) {
        clients[ObjectIdentifier(transport)] = nil
        wakeCloseWaitersIfDone()
    }

    private func wakeCloseWaitersIfDone() {
        guard closed, clients.isEmpty else { return }
        for waiter in closeWaiters where !waiter.isDone { try? waiter.setResult(()) }
        closeWaiters = []
    }
}
