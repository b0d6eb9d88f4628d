import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct EchoServerCommand: TopicCommand {
    static let topic = Topic(
        name: "echo-server",
        section: "Asynchronous I/O with Protocol Class Abstractions; Asynchronous I/O Using Coroutines and Streams",
        abstract: "A TCP echo server and client, with protocol classes and with streams.",
        normalize: [.peerAddresses, .splitEchoChunks],
        examples: [
            Example(name: "protocol", summary: "Echo server and client as Protocol classes over transports.",
                    mirrors: "asyncio_echo_server_protocol.py, asyncio_echo_client_protocol.py: create_server, create_connection, Protocol",
                    logging: .named, sections: ["protocol"], in: "EchoDemo.swift",
                    run: { try EchoDemo(style: .protocol).runBoth() }),
            Example(name: "streams", summary: "The same echo server and client written with streams.",
                    mirrors: "asyncio_echo_server_coroutine.py, asyncio_echo_client_coroutine.py: start_server, open_connection",
                    logging: .named, sections: ["streams"], in: "EchoDemo.swift",
                    run: { try EchoDemo(style: .streams).runBoth() }),
        ]
    )
    static let configuration = makeConfiguration()

    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
    @OptionGroup var network: ServeOptions
    @Flag(help: "With --serve: leave out the per-connection lines (for load tests).") var quiet = false
    @Option(help: "With --serve: serve TLS with this certificate (PEM), for the TLS echo benchmark.") var cert: String?
    @Option(help: "With --serve and --cert: the certificate's private key (PEM).") var key: String?

    func validate() throws {
        if network.isServerOrClient {
            guard let example, Self.topic.example(named: example) != nil else {
                throw ValidationError("--serve and --connect need an example: protocol or streams")
            }
        }
        if quiet, !network.serve { throw ValidationError("--quiet only applies to --serve") }
        if (cert != nil || key != nil), !network.serve { throw ValidationError("--cert and --key only apply to --serve") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    func run() throws {
        guard network.isServerOrClient, !learner.source, let example else {
            try runTopic(Self.topic, example: example, learner)
            return
        }
        var demo = EchoDemo(style: example == "streams" ? .streams : .protocol, quiet: quiet)
        DemoLogging.use(.named)
        do {
            if let cert, let key {
                do {
                    let context = try SSLContext(purpose: .server)
                    try context.loadCertChain(certFile: cert, keyFile: key)
                    demo.tls = context
                } catch {
                    throw DemoFailure(message: "cannot load the server's certificate: \(error)")
                }
            }
            try learner.instrumenting {
                if network.serve {
                    try demo.serve(host: network.host, port: network.port)
                } else if let endpoint = network.endpoint {
                    try demo.connect(to: endpoint, messages: network.payload)
                }
            }
        } catch let failure as DemoFailure {
            printError("asyncio-demo: \(failure.message)")
            throw ExitCode.failure
        }
    }
}

/// HOST:PORT, with IPv6 hosts in brackets (`[::1]:10000`).
struct Endpoint {
    let host: String
    let port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}

/// A runtime failure the user can act on: one line, exit status 1.
struct DemoFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The bytes of each argument as the process received them. Swift decodes
/// arguments as UTF-8 and replaces what is not; a message must go out as
/// given, as Python's `os.fsencode` sends it. Each decoded argument is
/// matched, in order, with the first later raw argument that decodes to it.
func rawBytes(of arguments: [String]) -> [[UInt8]] {
    let raw = (0..<Int(CommandLine.argc)).map { index -> [UInt8] in
        guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map { UInt8(bitPattern: $0) }
    }
    var next = 1
    return arguments.map { argument in
        while next < raw.count {
            defer { next += 1 }
            if String(decoding: raw[next], as: UTF8.self) == argument { return raw[next] }
        }
        return Array(argument.utf8)
    }
}
