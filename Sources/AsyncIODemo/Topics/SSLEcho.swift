import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

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
                    logging: .named, run: { try SSLEchoDemo.runBoth() }),
        ]
    )
    static let configuration = makeConfiguration()

    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
    @OptionGroup var network: ServeOptions
    @Option(help: "With --serve: the server's certificate (PEM); a fresh self-signed one for localhost when omitted.")
    var cert: String?
    @Option(help: "With --serve and --cert: the certificate's private key (PEM).") var key: String?
    @Option(help: "With --serve: save the generated certificate here, for clients to trust.") var writeCert: String?
    @Option(help: "With --connect: the certificates to trust (PEM); the system's when omitted.") var cafile: String?
    @Flag(help: "With --connect: do not verify the server (for testing only).") var insecure = false

    func validate() throws {
        if network.isServerOrClient, example != "streams" {
            throw ValidationError("--serve and --connect need the example: streams")
        }
        if (cert != nil || key != nil || writeCert != nil), !network.serve {
            throw ValidationError("--cert, --key and --write-cert only apply to --serve")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if cert != nil, writeCert != nil { throw ValidationError("--write-cert saves a generated certificate; not with --cert") }
        if (cafile != nil || insecure), network.connect == nil { throw ValidationError("--cafile and --insecure only apply to --connect") }
        if cafile != nil, insecure { throw ValidationError("use either --cafile or --insecure, not both") }
    }

    func run() throws {
        guard network.isServerOrClient, !learner.source else {
            try runTopic(Self.topic, example: example, learner)
            return
        }
        DemoLogging.use(.named)
        do {
            try learner.instrumenting {
                if network.serve {
                    let context = try serverContext()
                    let demo = EchoDemo(style: .tlsStreams(server: context, client: context))
                    try demo.serve(host: network.host, port: network.port)
                } else if let endpoint = network.endpoint {
                    let context = try clientContext()
                    try EchoDemo(style: .tlsStreams(server: context, client: context))
                        .connect(to: endpoint, messages: network.payload)
                }
            }
        } catch let failure as DemoFailure {
            printError("asyncio-demo: \(failure.message)")
            throw ExitCode.failure
        }
    }

    /// The server's context: the given certificate and key, or a fresh
    /// self-signed certificate (saved with --write-cert).
    private func serverContext() throws -> SSLContext {
        do {
            let context = try SSLContext(purpose: .server)
            if let cert, let key {
                try context.loadCertChain(certFile: cert, keyFile: key)
            } else {
                let generated = try SelfSignedCertificate.generate(hostName: "localhost")
                try context.loadCertChain(certData: generated.certificatePEM, keyData: generated.privateKeyPEM)
                if let writeCert { try write(generated.certificatePEM, to: writeCert) }
            }
            return context
        } catch let error as DemoFailure {
            throw error
        } catch {
            throw DemoFailure(message: "cannot load the server's certificate: \(error)")
        }
    }

    /// The client's context: the system's trust store, the given CA file,
    /// or (with --insecure) no verification.
    private func clientContext() throws -> SSLContext {
        do {
            let context = try SSLContext.makeDefault(purpose: .client)
            if let cafile { try context.loadVerifyLocations(caFile: cafile) }
            if insecure {
                context.checkHostname = false
                try context.setVerifyMode(.none)
            }
            return context
        } catch {
            throw DemoFailure(message: "cannot load the certificates to trust: \(error)")
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "w") else {
            throw DemoFailure(message: "cannot write \(pythonRepr(path)): \(OSError(errno: errno, operation: "open"))")
        }
        defer { fclose(file) }
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
            throw DemoFailure(message: "cannot write \(pythonRepr(path)): \(OSError(errno: errno, operation: "write"))")
        }
    }
}

// MARK: streams

/// The chapter's server and client in one process, on a free localhost
/// port. Instead of the chapter's `openssl req` files, a fresh self-signed
/// certificate for localhost is made in memory; the client trusts exactly
/// it, with host names checked (the chapter turns that off because its
/// certificate names pymotw.com).
enum SSLEchoDemo {
    static func runBoth() throws {
        let certificate = try SelfSignedCertificate.generate(hostName: "localhost")
        let serverContext = try SSLContext(purpose: .server)
        try serverContext.loadCertChain(certData: certificate.certificatePEM, keyData: certificate.privateKeyPEM)
        let clientContext = try SSLContext.makeDefault(purpose: .client)
        try clientContext.loadVerifyLocations(caData: certificate.certificatePEM)
        try EchoDemo(style: .tlsStreams(server: serverContext, client: clientContext)).runBoth()
    }
}

/// asyncio_echo_server_ssl.py's `echo`: a NUL byte at the end of a read
/// ends the message, since the client cannot send EOF over TLS.
@LoopActor
func sslEcho(_ reader: StreamReader, _ writer: StreamWriter, quiet: Bool = false) async throws {
    let name = peerName("echo", writer.getExtraInfo("peername"))
    func log(_ name: String, _ message: @autoclosure () -> String) {
        if !quiet { logLine(name, message()) }
    }
    log(name, "connection accepted")
    while true {
        var data = try await reader.read(128)
        let terminated = data.last == 0
        while data.last == 0 { data.removeLast() }
        if !data.isEmpty {
            log(name, "received \(pythonRepr(bytes: data))")
            writer.write(data)
            try await writer.drain()
            log(name, "sent \(pythonRepr(bytes: data))")
        }
        if data.isEmpty || terminated {
            log(name, "message terminated, closing connection")
            writer.close()
            return
        }
    }
}
