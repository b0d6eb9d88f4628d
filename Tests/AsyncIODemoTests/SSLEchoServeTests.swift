import Foundation
import Testing
import TestSupport

/// `asyncio-demo ssl-echo streams --serve` and `--connect` as separate
/// processes, with each other and with Python's `ssl` module.
@Suite(.serialized, .suiteLimit) struct SSLEchoServeTests {
    private func startServer(writingCertTo path: String) throws -> (ChildProcess, Int) {
        let server = try Demo.start(["ssl-echo", "streams", "--serve", "--host", "localhost", "--port", "0",
                                     "--write-cert", path])
        return (server, try server.readStartupPort(host: "localhost"))
    }

    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "asyncio-ssl-\(getpid())-\(name).pem"
    }

    @Test func aClientTrustingTheWrittenCertificateIsEchoedAndOneThatDoesNotIsRefused() throws {
        let certificate = temporaryPath("trusted")
        defer { unlink(certificate) }
        let (server, port) = try startServer(writingCertTo: certificate)

        let trusted = try Demo.run(["ssl-echo", "streams", "--connect", "localhost:\(port)", "--cafile", certificate,
                                    "ping ", "pong"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(normalise(trusted.stdout).contains("received b'ping pong'"))

        let untrusted = try Demo.run(["ssl-echo", "streams", "--connect", "localhost:\(port)", "hello"])
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.hasPrefix("asyncio-demo: TLS with localhost port \(port) failed: [SSL: CERTIFICATE_VERIFY_FAILED]"))
        #expect(untrusted.stderr.split(separator: "\n").count == 1)

        // Python's ssl, trusting the same file, through the same server.
        let python = try ChildProcess.run("/usr/bin/env", ["python3", "-c", """
            import socket, ssl
            context = ssl.create_default_context(cafile='\(certificate)')
            with context.wrap_socket(socket.create_connection(('localhost', \(port))), server_hostname='localhost') as s:
                s.sendall(b'from python\\0')
                data = b''
                while True:
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    data += chunk
                print(data.decode())
            """])
        #expect(python.status == 0, "\(python.stderrText)")
        #expect(python.stdoutText == "from python\n")

        server.signal(SIGINT)
        #expect(server.wait(timeout: 30) == .exited(0))
        let output = String(decoding: server.stdout, as: UTF8.self)
        #expect(output.hasSuffix("main: closing server\nmain: closing event loop\n"))
    }

    @Test func badCertificateOptionsAreOneLineErrors() throws {
        let missing = try Demo.run(["ssl-echo", "streams", "--serve", "--cert", "/nonexistent.pem",
                                    "--key", "/nonexistent.key"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("asyncio-demo: cannot load the server's certificate: "))
        #expect(missing.stderr.split(separator: "\n").count == 1)

        let halfPair = try Demo.run(["ssl-echo", "streams", "--serve", "--cert", "/nonexistent.pem"])
        #expect(halfPair.status == 64)
        #expect(halfPair.stderr.contains("--cert and --key go together"))

        let clientOnly = try Demo.run(["ssl-echo", "streams", "--cafile", "x.pem"])
        #expect(clientOnly.status == 64)
    }
}
