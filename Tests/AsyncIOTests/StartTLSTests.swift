import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// A line protocol that upgrades to TLS on "STARTTLS" (the server answers
/// "GO" in plaintext first), then echoes, or (as a client) collects what
/// comes back. `connectionMade` must run once: `startTLS` does not repeat it.
@LoopActor
private final class StartTLSPeer: StreamingProtocol {
    private let loop: EventLoop
    private let serverContext: SSLContext?
    var transport: (any Transport)?
    private(set) var connectionsMade = 0
    private(set) var received: [UInt8] = []
    private var wanted: (count: Int, future: Future<[UInt8]>)?
    let lost: Future<(any Error)?>
    let upgraded: Future<Void>

    /// A server when given its context, else a client.
    init(loop: EventLoop, serverContext: SSLContext? = nil) {
        self.loop = loop
        self.serverContext = serverContext
        lost = Future(loop: loop)
        upgraded = Future(loop: loop)
    }

    func connectionMade(_ transport: any Transport) {
        connectionsMade += 1
        self.transport = transport
    }

    func dataReceived(_ data: [UInt8]) {
        guard let serverContext else { return collect(data) }
        if upgraded.isDone {
            transport?.write(data)
        } else if upgrading {
            // Plaintext can arrive with the handshake's end, before the
            // task awaiting startTLS has its new transport.
            received += data
        } else if data == Array("STARTTLS\n".utf8), let plain = transport {
            upgrading = true
            plain.write(Array("GO\n".utf8))
            _ = loop.createTask { [self] in
                let secure = try await loop.startTLS(plain, protocol: self, context: serverContext, serverSide: true)
                transport = secure
                try upgraded.setResult(())
                secure.write(received)
                received = []
            }
        }
    }
    private var upgrading = false

    private func collect(_ data: [UInt8]) {
        received += data
        if let (count, future) = wanted, received.count >= count {
            wanted = nil
            try? future.setResult(Array(received.prefix(count)))
            received.removeFirst(count)
        }
    }

    /// The next `count` bytes a client receives.
    func read(_ count: Int) async throws -> [UInt8] {
        let future = Future<[UInt8]>(loop: loop)
        wanted = (count, future)
        collect([])
        return try await future.value
    }

    func connectionLost(_ error: (any Error)?) { try? lost.setResult(error) }
}

/// `startTLS` after a plaintext exchange (the STARTTLS pattern), on the
/// protocol and the streams APIs, each side upgrading its own end.
@Suite(.serialized, .suiteLimit) struct StartTLSTests {
    init() { LogCapture.install() }

    @Test func protocolsUpgradeBothSides() throws {
        let pair = try TLSPair()
        let (echoed, cipher, made, serverCipher) = try runLoop { loop -> ([UInt8], SSLCipher?, [Int], SSLCipher?) in
            var serverPeer: StartTLSPeer?
            let server = try await loop.createServer({
                let peer = StartTLSPeer(loop: loop, serverContext: pair.server)
                serverPeer = peer
                return peer
            }, host: "127.0.0.1", port: 0)
            let (plain, client) = try await loop.createConnection({ StartTLSPeer(loop: loop) }, host: "127.0.0.1",
                                                                  port: server.addresses[0].port)
            plain.write(Array("STARTTLS\n".utf8))
            #expect(try await client.read(3) == Array("GO\n".utf8))
            let secure = try await loop.startTLS(plain, protocol: client, context: pair.client, serverHostname: "localhost")
            client.transport = secure
            secure.write(Array("over TLS now".utf8))
            let echoed = try await client.read(12)
            let cipher = secure.getExtraInfo("cipher") as? SSLCipher
            let serverCipher = serverPeer?.transport?.getExtraInfo("cipher") as? SSLCipher
            #expect(secure.getExtraInfo("peername") as? SocketAddress != nil)
            secure.close()
            #expect(try await client.lost.value == nil)
            server.close()
            try await server.waitClosed()
            return (echoed, cipher, [client.connectionsMade, serverPeer?.connectionsMade ?? -1], serverCipher)
        }
        #expect(echoed == Array("over TLS now".utf8))
        #expect(cipher?.protocolVersion == "TLSv1.3")
        #expect(serverCipher == cipher)
        #expect(made == [1, 1])
    }

    @Test func streamsUpgradeBothSides() throws {
        let pair = try TLSPair()
        let (reply, peer, serverSawTLS) = try runLoop { loop -> ([UInt8], PeerCertificate?, Bool) in
            let serverSawTLS = Future<Bool>(loop: loop)
            let server = try await loop.startServer({ reader, writer in
                guard try await reader.readline() == Array("STARTTLS\n".utf8) else { return writer.close() }
                writer.write(Array("GO\n".utf8))
                try await writer.startTLS(pair.server)
                try? serverSawTLS.setResult(writer.getExtraInfo("sslcontext") as? SSLContext === pair.server)
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            writer.write(Array("STARTTLS\n".utf8))
            #expect(try await reader.readline() == Array("GO\n".utf8))
            try await writer.startTLS(pair.client, serverHostname: "localhost")
            #expect(!writer.canWriteEof())
            writer.write(Array("secret".utf8))
            let reply = try await reader.readexactly(6)
            let peer = writer.getExtraInfo("peercert") as? PeerCertificate
            writer.close()
            try await writer.waitClosed()
            let sawTLS = try await serverSawTLS.value
            server.close()
            try await server.waitClosed()
            return (reply, peer, sawTLS)
        }
        #expect(reply == Array("secret".utf8))
        #expect(peer?.subject == [.init(name: "commonName", value: "localhost")])
        #expect(serverSawTLS)
    }

    /// An upgrade whose handshake fails throws its typed error, and the
    /// connection ends for the application too.
    @Test func failedUpgradeThrowsAndEndsTheConnection() throws {
        let pair = try TLSPair()
        let stranger = try SSLContext.makeDefault(purpose: .client)
        let (failure, atEof) = try runLoop { loop -> ((any Error)?, Bool) in
            let server = try await loop.startServer({ reader, writer in
                _ = try await reader.readline()
                writer.write(Array("GO\n".utf8))
                // Fails as the client refuses the certificate; the client's side is what is checked.
                try? await writer.startTLS(pair.server)
            }, host: "127.0.0.1", port: 0)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            writer.write(Array("STARTTLS\n".utf8))
            _ = try await reader.readline()
            var failure: (any Error)?
            do {
                try await writer.startTLS(stranger, serverHostname: "localhost")
            } catch {
                failure = error
            }
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return (failure, reader.atEof)
        }
        #expect((failure as? SSLCertVerificationError)?.verifyCode == 18)
        #expect(atEof)
    }

    /// A client that checks host names must say which host it expects.
    @Test func clientUpgradeNeedsAServerHostname() throws {
        let pair = try TLSPair()
        let failure = try runLoop { loop -> (any Error)? in
            let server = try await loop.startServer({ _, writer in writer.close() }, host: "127.0.0.1", port: 0)
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            defer {
                writer.close()
                server.close()
            }
            do {
                try await writer.startTLS(pair.client)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure as? ValueError == ValueError("check_hostname requires server_hostname"))
    }

    /// TLS over Unix-domain sockets, with the server name given explicitly.
    @Test func unixSocketsCarryTLS() throws {
        let pair = try TLSPair()
        let directory = temporaryDirectory()
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        let path = "\(directory)/tls.sock"
        let (echoed, missingName) = try runLoop { loop -> ([UInt8], (any Error)?) in
            let server = try loop.startUnixServer(echoUntilEnd, path: path, ssl: pair.server)
            let (reader, writer) = try await loop.openUnixConnection(path: path, ssl: pair.client, serverHostname: "localhost")
            writer.write(Array("unix".utf8))
            let echoed = try await reader.readexactly(4)
            #expect(writer.getExtraInfo("cipher") as? SSLCipher != nil)
            writer.close()
            try await writer.waitClosed()
            var missingName: (any Error)?
            do {
                _ = try await loop.openUnixConnection(path: path, ssl: pair.client)
            } catch {
                missingName = error
            }
            server.close()
            try await server.waitClosed()
            return (echoed, missingName)
        }
        #expect(echoed == Array("unix".utf8))
        #expect(missingName as? ValueError == ValueError("you have to pass server_hostname when using ssl"))
    }
}
