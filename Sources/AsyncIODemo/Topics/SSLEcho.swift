import ArgumentParser
import AsyncIO

struct SSLEchoCommand: TopicCommand {
    static let topic = Topic(
        name: "ssl-echo",
        section: "Using SSL",
        abstract: "The streams echo server and client over TLS, with a certificate made in memory.",
        normalize: [.peerAddresses, .splitEchoChunks],
        examples: [
            Example(name: "streams",
                    summary: "Echo server and client over TLS; TLS has no half-close, so a NUL byte ends the message.",
                    mirrors: "asyncio_echo_server_ssl.py, asyncio_echo_client_ssl.py: SSLContext, load_cert_chain, "
                        + "load_verify_locations, start_server(ssl=), open_connection(ssl=)",
                    run: { try SSLEchoDemo().runBoth() }),
        ]
    )
    static let configuration = makeConfiguration()

    @Argument(help: "The example to run; all of them when omitted.") var example: String?
}

/// The chapter's server and client in one process, on a free localhost
/// port. Instead of the chapter's `openssl req` files, a fresh self-signed
/// certificate for localhost is made in memory; the client trusts exactly
/// it, with host names checked (the chapter turns that off because its
/// certificate names pymotw.com).
struct SSLEchoDemo {
    func runBoth() throws {
        let certificate = try SelfSignedCertificate.generate(hostName: "localhost")
        let serverContext = try SSLContext(purpose: .server)
        try serverContext.loadCertChain(certData: certificate.certificatePEM, keyData: certificate.privateKeyPEM)
        let clientContext = try SSLContext.makeDefault(purpose: .client)
        try clientContext.loadVerifyLocations(caData: certificate.certificatePEM)

        let loop = EventLoop()
        defer { try? loop.close() }
        try loop.runUntilComplete {
            let server = try await loop.startServer(sslEcho, host: "localhost", port: 0, ssl: serverContext)
            let port = server.addresses.first?.port ?? 0
            logLine("main", "starting up on localhost port \(port)")
            try await sslEchoClient(loop, host: "localhost", port: port, context: clientContext,
                                    messages: EchoDemo.documentMessages)
            logLine("main", "closing server")
            server.close()
            try await server.waitClosed()
        }
        logLine("main", "closing event loop")
    }
}

/// asyncio_echo_server_ssl.py's `echo`: a NUL byte at the end of a read
/// ends the message, since the client cannot send EOF over TLS.
@LoopActor
func sslEcho(_ reader: StreamReader, _ writer: StreamWriter) async throws {
    let name = peerName("echo", writer.getExtraInfo("peername"))
    logLine(name, "connection accepted")
    while true {
        var data = try await reader.read(128)
        let terminated = data.last == 0
        while data.last == 0 { data.removeLast() }
        if !data.isEmpty {
            logLine(name, "received \(pythonRepr(bytes: data))")
            writer.write(data)
            try await writer.drain()
            logLine(name, "sent \(pythonRepr(bytes: data))")
        }
        if data.isEmpty || terminated {
            logLine(name, "message terminated, closing connection")
            writer.close()
            return
        }
    }
}

/// asyncio_echo_client_ssl.py's `echo_client`.
@LoopActor
func sslEchoClient(_ loop: EventLoop, host: String, port: Int, context: SSLContext, messages: [[UInt8]]) async throws {
    logLine("echo_client", "connecting to \(host) port \(port)")
    let (reader, writer) = try await loop.openConnection(host: host, port: port, ssl: context)
    for message in messages {
        writer.write(message)
        logLine("echo_client", "sending \(pythonRepr(bytes: message))")
    }
    // TLS cannot close one direction (writeEof), so a NUL byte ends the message.
    writer.write([0])
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
