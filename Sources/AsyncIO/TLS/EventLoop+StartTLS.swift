extension EventLoop {
    /// Upgrades an open connection to TLS (asyncio's `start_tls`): puts a
    /// TLS layer between `transport` and `protocolObject`, runs the
    /// handshake, and returns the transport the protocol writes plaintext
    /// to from now on. The protocol's `connectionMade` is not called again.
    /// On failure the connection is closed and the error thrown.
    ///
    /// A client (`serverSide` false) checks the certificate against
    /// `serverHostname`, which it needs when `context.checkHostname` is on.
    /// Bytes the peer sent before the upgrade must already have been read:
    /// the STARTTLS pattern has the server answer "go ahead" before it
    /// upgrades, and the client upgrade only after reading that answer.
    @LoopActor
    public func startTLS(
        _ transport: any Transport, protocol protocolObject: any BaseProtocol, context: SSLContext,
        serverSide: Bool = false, serverHostname: String? = nil,
        sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
    ) async throws -> any Transport {
        guard let socket = transport as? StreamTransport, transport.getExtraInfo("sslcontext") == nil else {
            throw TypeError("transport \(transport) is not supported by startTLS()")
        }
        if !serverSide, context.checkHostname, serverHostname == nil {
            throw ValueError("check_hostname requires server_hostname")
        }
        let waiter = Future<Void>(loop: self)
        let layer = try TLSProtocol(loop: self, context: context, application: protocolObject, serverSide: serverSide,
                                    serverHostname: serverHostname, handshakeTimeout: sslHandshakeTimeout,
                                    shutdownTimeout: sslShutdownTimeout, callConnectionMade: false, waiter: waiter)
        layer.underlying = socket
        // Paused first, so no ciphertext reaches the layer before its connectionMade.
        socket.pauseReading()
        socket.setProtocol(layer)
        socket.presentToServer(as: layer.transport)
        let made = callSoon(label: "start_tls connection_made") { layer.connectionMade(socket) }
        let resume = callSoon(label: "start_tls resume reading") { socket.resumeReading() }
        do {
            try await waiter.value
        } catch {
            made.cancel()
            resume.cancel()
            socket.close()
            throw error
        }
        return layer.transport
    }
}
