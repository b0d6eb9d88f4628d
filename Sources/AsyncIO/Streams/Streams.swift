extension EventLoop {
    /// Connects to `host`:`port` and returns a reader and a writer for the
    /// connection (asyncio's `open_connection`); `ssl`, `serverHostname` and
    /// `sslHandshakeTimeout` as for `createConnection`.
    @LoopActor
    public func openConnection(host: String, port: Int, limit: Int = StreamReader.defaultLimit,
                               ssl: SSLContext? = nil, serverHostname: String? = nil,
                               sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil)
        async throws -> (StreamReader, StreamWriter)
    {
        let reader = StreamReader(limit: limit, loop: self)
        let (transport, protocolObject) = try await createConnection(
            { StreamReaderProtocol(reader: reader, loop: self) }, host: host, port: port,
            ssl: ssl, serverHostname: serverHostname, sslHandshakeTimeout: sslHandshakeTimeout,
            sslShutdownTimeout: sslShutdownTimeout)
        return (reader, StreamWriter(transport: transport, drain: protocolObject.drain, reader: reader,
                                    streamProtocol: protocolObject))
    }

    /// A reader and a writer for a stream socket that is already connected
    /// (asyncio's `open_connection(sock=)`); the loop owns it from now on.
    @LoopActor
    public func openConnection(sock: Int32, limit: Int = StreamReader.defaultLimit)
        async throws -> (StreamReader, StreamWriter)
    {
        let reader = StreamReader(limit: limit, loop: self)
        let (transport, protocolObject) = try await connectAcceptedSocket(
            { StreamReaderProtocol(reader: reader, loop: self) }, sock: sock)
        return (reader, StreamWriter(transport: transport, drain: protocolObject.drain, reader: reader,
                                    streamProtocol: protocolObject))
    }

    /// `openConnection` over a Unix-domain socket (asyncio's
    /// `open_unix_connection`); with `ssl`, `serverHostname` is required.
    @LoopActor
    public func openUnixConnection(path: String, limit: Int = StreamReader.defaultLimit,
                                   ssl: SSLContext? = nil, serverHostname: String? = nil,
                                   sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil)
        async throws -> (StreamReader, StreamWriter)
    {
        let reader = StreamReader(limit: limit, loop: self)
        let (transport, protocolObject) = try await createUnixConnection(
            { StreamReaderProtocol(reader: reader, loop: self) }, path: path, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
        return (reader, StreamWriter(transport: transport, drain: protocolObject.drain, reader: reader,
                                    streamProtocol: protocolObject))
    }

    /// Starts a server that runs `clientConnected` as a task for each
    /// connection, with its reader and writer (asyncio's `start_server`);
    /// with `ssl`, after each connection's handshake.
    @LoopActor
    public func startServer(
        _ clientConnected: @escaping @LoopActor (StreamReader, StreamWriter) async throws -> Void,
        host: String?, port: Int, limit: Int = StreamReader.defaultLimit, backlog: Int = 100,
        ssl: SSLContext? = nil, sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
    ) async throws -> Server {
        try await createServer({ [self] in
            StreamReaderProtocol(reader: StreamReader(limit: limit, loop: self), loop: self,
                                 clientConnected: clientConnected)
        }, host: host, port: port, backlog: backlog, ssl: ssl, sslHandshakeTimeout: sslHandshakeTimeout,
           sslShutdownTimeout: sslShutdownTimeout)
    }

    /// `startServer` on a Unix-domain socket (asyncio's `start_unix_server`).
    @LoopActor
    public func startUnixServer(
        _ clientConnected: @escaping @LoopActor (StreamReader, StreamWriter) async throws -> Void,
        path: String, limit: Int = StreamReader.defaultLimit,
        ssl: SSLContext? = nil, sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
    ) throws -> Server {
        try createUnixServer({ [self] in
            StreamReaderProtocol(reader: StreamReader(limit: limit, loop: self), loop: self,
                                 clientConnected: clientConnected)
        }, path: path, ssl: ssl, sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
    }
}

/// `openConnection` on the running loop (`asyncio.open_connection`).
@LoopActor
public func openConnection(host: String, port: Int, limit: Int = StreamReader.defaultLimit,
                           ssl: SSLContext? = nil, serverHostname: String? = nil,
                           sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil)
    async throws -> (StreamReader, StreamWriter)
{
    try await runningLoop().openConnection(
        host: host, port: port, limit: limit, ssl: ssl, serverHostname: serverHostname,
        sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
}

/// `startServer` on the running loop (`asyncio.start_server`).
@LoopActor
public func startServer(
    _ clientConnected: @escaping @LoopActor (StreamReader, StreamWriter) async throws -> Void,
    host: String?, port: Int, limit: Int = StreamReader.defaultLimit, backlog: Int = 100,
    ssl: SSLContext? = nil, sslHandshakeTimeout: Double? = nil, sslShutdownTimeout: Double? = nil
) async throws -> Server {
    try await runningLoop().startServer(
        clientConnected, host: host, port: port, limit: limit, backlog: backlog, ssl: ssl,
        sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
}
