#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension EventLoop {
    /// Listens on every address `host` resolves to (all interfaces for nil)
    /// and gives each accepted connection a protocol from `protocolFactory`
    /// (asyncio's `create_server`). Port 0 picks a free port; `addresses`
    /// tells which. With `ssl`, every connection is TLS: the protocol's
    /// `connectionMade` comes after the handshake, and a handshake that
    /// fails or takes longer than `sslHandshakeTimeout` seconds (60 when
    /// nil) is logged and dropped while the server goes on. Closing a TLS
    /// connection waits up to `sslShutdownTimeout` seconds (30 when nil)
    /// for the peer's close_notify.
    @LoopActor
    public func createServer(
        _ protocolFactory: @escaping @LoopActor () -> any BaseProtocol,
        host: String?, port: Int, backlog: Int = 100, reuseAddress: Bool = true,
        ssl: SSLContext? = nil, sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil,
        startServing: Bool = true
    ) async throws -> Server {
        let infos = try await resolveStream(host, port, passive: true)
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
            for fd in listeners { SystemCall.close(fd) }
            throw error
        }
        let server = Server(loop: self, listeners: listeners, backlog: backlog, protocolFactory: protocolFactory,
                            tls: ssl.map { TLSSettings(context: $0, serverHostname: nil, handshakeTimeout: sslHandshakeTimeout,
                                                       shutdownTimeout: sslShutdownTimeout) })
        if startServing { try server.startServing() }
        return server
    }

    /// Listens on the Unix-domain socket `path` (asyncio's
    /// `create_unix_server`); `ssl` and its timeouts as for `createServer`.
    @LoopActor
    public func createUnixServer(
        _ protocolFactory: @escaping @LoopActor () -> any BaseProtocol,
        path: String, backlog: Int = 100,
        ssl: SSLContext? = nil, sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil,
        startServing: Bool = true
    ) throws -> Server {
        let fd = try Socket.open(family: AF_UNIX)
        do {
            try Socket.bind(fd, to: SocketAddress(unixPath: path))
            try Socket.listen(fd, backlog: backlog)
        } catch {
            SystemCall.close(fd)
            throw error
        }
        let server = Server(loop: self, listeners: [fd], backlog: backlog, protocolFactory: protocolFactory,
                            tls: ssl.map { TLSSettings(context: $0, serverHostname: nil, handshakeTimeout: sslHandshakeTimeout,
                                                       shutdownTimeout: sslShutdownTimeout) })
        if startServing { try server.startServing() }
        return server
    }

    /// Connects to `host`:`port`, trying each resolved address in turn, and
    /// returns the transport with its protocol once `connectionMade` has run
    /// (asyncio's `create_connection`). If every address fails, throws the
    /// error, or `ConnectionErrors` naming each when they differ.
    ///
    /// With `ssl`, the connection is TLS and this returns after the
    /// handshake; the certificate is checked against `serverHostname`
    /// (`host` when nil), and a failed handshake throws its `SSLError` or
    /// `SSLCertVerificationError`. Closing waits up to `sslShutdownTimeout`
    /// seconds (30 when nil) for the server's close_notify.
    @LoopActor
    public func createConnection<P: BaseProtocol>(
        _ protocolFactory: @LoopActor () -> P, host: String, port: Int,
        ssl: SSLContext? = nil, serverHostname: String? = nil,
        sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        let tls = ssl.map { TLSSettings(context: $0, serverHostname: serverHostname ?? host, handshakeTimeout: sslHandshakeTimeout,
                                        shutdownTimeout: sslShutdownTimeout) }
        let infos = try await resolveStream(host, port)
        var errors: [any Error] = []
        for info in infos {
            let fd = try Socket.open(family: info.family)
            do {
                try await sockConnect(fd, info.address)
            } catch {
                SystemCall.close(fd)
                if error is CancelledError { throw error }
                errors.append(error)
                continue
            }
            // Connected: the transport owns the descriptor now, and a failed
            // handshake is the server's answer, not a reason to try the next address.
            return try await attach(fd: fd, protocolFactory(), tls: tls)
        }
        throw ConnectionErrors.combine(errors, host: host, port: port)
    }

    /// Connects to the Unix-domain socket `path` (asyncio's
    /// `create_unix_connection`). With `ssl`, `serverHostname` is required:
    /// there is no host name to default to.
    @LoopActor
    public func createUnixConnection<P: BaseProtocol>(
        _ protocolFactory: @LoopActor () -> P, path: String,
        ssl: SSLContext? = nil, serverHostname: String? = nil,
        sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        var tls: TLSSettings?
        if let ssl {
            guard let serverHostname else { throw ValueError("you have to pass server_hostname when using ssl") }
            tls = TLSSettings(context: ssl, serverHostname: serverHostname, handshakeTimeout: sslHandshakeTimeout,
                              shutdownTimeout: sslShutdownTimeout)
        }
        let fd = try Socket.open(family: AF_UNIX)
        do {
            try await sockConnect(fd, SocketAddress(unixPath: path))
        } catch {
            SystemCall.close(fd)
            throw error
        }
        return try await attach(fd: fd, protocolFactory(), tls: tls)
    }

    /// Every connected socket gets its transport here, the accepted ones as
    /// well as the ones connected: with `tls`, a `TLSProtocol` sits between
    /// the socket transport and the protocol, and the transport returned is
    /// the one the protocol sees. `waiter` completes when the protocol's
    /// `connectionMade` has run (after the handshake, for TLS).
    @LoopActor
    func makeSocketTransport(fd: Int32, protocol protocolObject: any BaseProtocol, server: Server? = nil,
                             waiter: Future<Void>? = nil, tls: TLSSettings? = nil) throws -> any Transport {
        guard let tls else {
            return SocketTransport(loop: self, channel: .socket(SocketChannel(fd: fd)), protocol: protocolObject,
                                   server: server, waiter: waiter)
        }
        let layer = try TLSProtocol(loop: self, context: tls.context, application: protocolObject, serverSide: server != nil,
                                    serverHostname: tls.serverHostname, handshakeTimeout: tls.handshakeTimeout,
                                    shutdownTimeout: tls.shutdownTimeout, waiter: waiter)
        let socket = SocketTransport(loop: self, channel: .socket(SocketChannel(fd: fd)), protocol: layer, server: server)
        // Known before its connectionMade, so an abort during the handshake reaches the socket.
        layer.underlying = socket
        socket.presentToServer(as: layer.transport)
        return layer.transport
    }

    @LoopActor
    private func attach<P: BaseProtocol>(fd: Int32, _ protocolObject: P, tls: TLSSettings? = nil)
        async throws -> (transport: any Transport, protocol: P)
    {
        let waiter = Future<Void>(loop: self)
        let transport: any Transport
        do {
            transport = try makeSocketTransport(fd: fd, protocol: protocolObject, waiter: waiter, tls: tls)
        } catch {
            SystemCall.close(fd)
            throw error
        }
        do {
            try await waiter.value
        } catch {
            transport.abort()
            throw error
        }
        return (transport, protocolObject)
    }

    /// Wraps a stream socket that is already connected, such as one end of a
    /// `socketpair` or one accepted elsewhere (asyncio's
    /// `connect_accepted_socket`). The loop owns the descriptor from now on
    /// and closes it with the transport, or at once if this throws.
    @LoopActor
    public func connectAcceptedSocket<P: BaseProtocol>(_ protocolFactory: @LoopActor () -> P, sock: Int32)
        async throws -> (transport: any Transport, protocol: P)
    {
        do {
            try Socket.setNonBlocking(sock)
        } catch {
            // EBADF: nothing open to close.
            if error.errno != EBADF { SystemCall.close(sock) }
            throw error
        }
        return try await attach(fd: sock, protocolFactory())
    }
}

/// What a connection's TLS layer is made with.
struct TLSSettings {
    let context: SSLContext
    /// A client's name for the server (SNI and the host-name check).
    let serverHostname: String?
    let handshakeTimeout: Double?
    let shutdownTimeout: Double?
}
