#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Listening sockets that accept connections and give each a transport and
/// a new protocol (asyncio's `Server`).
@LoopActor
public final class Server {
    private let loop: EventLoop
    private let protocolFactory: @LoopActor () -> any BaseProtocol
    private let backlog: Int
    private var listeners: [Int32]
    /// The addresses the server listens on.
    public let sockets: [SocketAddress]
    private var serving = false
    private var closed = false
    /// The connections accepted and not yet lost, by transport.
    private var clients: [ObjectIdentifier: any Transport] = [:]
    private var closeWaiters: [Future<Void>] = []
    private var servingForever: Future<Void>?
    /// Set while accepting is paused because descriptors ran out.
    private var acceptRetry: TimerHandle?

    /// How long accepting pauses when the process is out of descriptors.
    static let acceptRetryDelay = 1.0

    init(loop: EventLoop, listeners: [Int32], backlog: Int, protocolFactory: @escaping @LoopActor () -> any BaseProtocol) {
        self.loop = loop
        self.listeners = listeners
        self.backlog = backlog
        self.protocolFactory = protocolFactory
        self.sockets = listeners.compactMap(Socket.localAddress)
    }

    public var isServing: Bool { serving }

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
                guard let (fd, _) = try Socket.accept(listener) else { return }
                _ = SocketTransport(loop: loop, fd: fd, protocol: protocolFactory(), server: self)
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
            Glibc.close(fd)
        }
        listeners = []
        servingForever?.cancel()
        wakeCloseWaitersIfDone()
    }

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

extension EventLoop {
    /// Listens on every address `host` resolves to (all interfaces for nil)
    /// and gives each accepted connection a protocol from `protocolFactory`
    /// (asyncio's `create_server`). Port 0 picks a free port; `sockets`
    /// tells which.
    @LoopActor
    public func createServer(
        _ protocolFactory: @escaping @LoopActor () -> any BaseProtocol,
        host: String?, port: Int, backlog: Int = 100, reuseAddress: Bool = true,
        startServing: Bool = true
    ) async throws -> Server {
        let infos = try await getaddrinfo(host, port, passive: true)
        var listeners: [Int32] = []
        do {
            var chosenPort = port
            for info in infos {
                var address = info.address
                if port == 0, chosenPort != 0 { address = address.withPort(chosenPort) }
                let fd = try Socket.open(family: info.family)
                listeners.append(fd)
                if reuseAddress { Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR) }
                if info.family == AF_INET6 { Socket.setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY) }
                try Socket.bind(fd, to: address)
                try Socket.listen(fd, backlog: backlog)
                if chosenPort == 0 { chosenPort = Socket.localAddress(fd)?.port ?? 0 }
            }
        } catch {
            for fd in listeners { Glibc.close(fd) }
            throw error
        }
        let server = Server(loop: self, listeners: listeners, backlog: backlog, protocolFactory: protocolFactory)
        if startServing { try server.startServing() }
        return server
    }

    /// Listens on the Unix-domain socket `path` (asyncio's `create_unix_server`).
    @LoopActor
    public func createUnixServer(
        _ protocolFactory: @escaping @LoopActor () -> any BaseProtocol,
        path: String, backlog: Int = 100, startServing: Bool = true
    ) throws -> Server {
        let fd = try Socket.open(family: AF_UNIX)
        do {
            try Socket.bind(fd, to: SocketAddress(unixPath: path))
            try Socket.listen(fd, backlog: backlog)
        } catch {
            Glibc.close(fd)
            throw error
        }
        let server = Server(loop: self, listeners: [fd], backlog: backlog, protocolFactory: protocolFactory)
        if startServing { try server.startServing() }
        return server
    }

    /// Connects to `host`:`port`, trying each resolved address in turn, and
    /// returns the transport with its protocol once `connectionMade` has run
    /// (asyncio's `create_connection`). If every address fails, throws the
    /// error, or `ConnectionErrors` naming each when they differ.
    @LoopActor
    public func createConnection<P: BaseProtocol>(
        _ protocolFactory: @LoopActor () -> P, host: String, port: Int
    ) async throws -> (transport: any Transport, protocol: P) {
        let infos = try await getaddrinfo(host, port)
        var errors: [any Error] = []
        for info in infos {
            let fd = try Socket.open(family: info.family)
            do {
                try await sockConnect(fd, info.address)
                return try await attach(fd: fd, protocolFactory())
            } catch {
                Glibc.close(fd)
                if error is CancelledError { throw error }
                errors.append(error)
            }
        }
        throw ConnectionErrors.combine(errors, host: host, port: port)
    }

    /// Connects to the Unix-domain socket `path` (asyncio's `create_unix_connection`).
    @LoopActor
    public func createUnixConnection<P: BaseProtocol>(
        _ protocolFactory: @LoopActor () -> P, path: String
    ) async throws -> (transport: any Transport, protocol: P) {
        let fd = try Socket.open(family: AF_UNIX)
        do {
            try await sockConnect(fd, SocketAddress(unixPath: path))
            return try await attach(fd: fd, protocolFactory())
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    @LoopActor
    private func attach<P: BaseProtocol>(fd: Int32, _ protocolObject: P) async throws -> (transport: any Transport, protocol: P) {
        let waiter = Future<Void>(loop: self)
        let transport = SocketTransport(loop: self, fd: fd, protocol: protocolObject, waiter: waiter)
        do {
            try await waiter.value
        } catch {
            transport.abort()
            throw error
        }
        return (transport, protocolObject)
    }
}

/// Every address of a host refused the connection, in different ways.
public struct ConnectionErrors: Error, CustomStringConvertible {
    public var errors: [any Error]

    static func combine(_ errors: [any Error], host: String, port: Int) -> any Error {
        let texts = Set(errors.map { "\($0)" })
        if texts.count == 1, let first = errors.first { return first }
        if errors.isEmpty { return OSError(errno: EADDRNOTAVAIL, operation: "connect to \(host):\(port)") }
        return ConnectionErrors(errors: errors)
    }

    public var description: String {
        "Multiple exceptions: " + errors.map { "\($0)" }.joined(separator: ", ")
    }
}

extension SocketAddress {
    /// The same address with another port.
    func withPort(_ port: Int) -> SocketAddress {
        var copy = storage
        withUnsafeMutablePointer(to: &copy) { pointer in
            switch family {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port = UInt16(port).bigEndian }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port = UInt16(port).bigEndian }
            default: break
            }
        }
        return SocketAddress(storage: copy, length: length)
    }
}
