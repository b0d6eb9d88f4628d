import Testing
@testable import AsyncIO
import TestSupport

/// The server name a client sends (SNI), as a server's `sniCallback` sees it.
@Suite(.serialized, .suiteLimit) struct TLSServerNameTests {
    init() { LogCapture.install() }

    /// The callback hears each client's `serverHostname` (nothing for a
    /// client that connects to an IP address), and switching the context
    /// for one name serves that context's certificate, which the client
    /// then verifies for that name.
    @Test func serverSeesTheNameAndCanSwitchCertificates() throws {
        let pair = try TLSPair()
        let other = try SelfSignedCertificate.generate(hostName: "other.example")
        let otherServer = try SSLContext(purpose: .server)
        try otherServer.loadCertChain(certData: other.certificatePEM, keyData: other.privateKeyPEM)
        let otherClient = try SSLContext.makeDefault(purpose: .client)
        try otherClient.loadVerifyLocations(caData: other.certificatePEM)
        let heard = Locked<[String]>([])
        // Not `pair.server` itself: the context holds its callback.
        let serverContext = ObjectIdentifier(pair.server)
        pair.server.sniCallback = { connection, name, context in
            heard.withLock { $0.append(name ?? "none") }
            #expect(ObjectIdentifier(context) == serverContext)
            #expect(connection.serverSide)
            if name == "other.example" { connection.context = otherServer }
        }
        let served = try runLoop { loop -> [String] in
            let server = try await loop.startServer({ reader, writer in
                let object = try #require(writer.getExtraInfo("ssl_object") as? SSLObject)
                let name = object.context === otherServer ? "other" : "default"
                writer.write(Array(name.utf8) + [0])
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            var served: [String] = []
            let clients: [(SSLContext, String, String?)] = [
                (pair.client, "localhost", nil),
                (otherClient, "127.0.0.1", "other.example"),
                (pair.client, "127.0.0.1", nil),
            ]
            for (context, host, name) in clients {
                let (reader, writer) = try await loop.openConnection(host: host, port: port, ssl: context,
                                                                     serverHostname: name)
                let reply = try await reader.readuntil([0])
                served.append(String(decoding: reply.dropLast(), as: UTF8.self))
                let peer = writer.getExtraInfo("peercert") as? PeerCertificate
                served.append(peer?.subject.first?.value ?? "?")
                writer.close()
                try await writer.waitClosed()
            }
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return served
        }
        #expect(heard.withLock { $0 } == ["localhost", "other.example", "none"])
        #expect(served == ["default", "localhost", "other", "other.example", "default", "localhost"])
    }

    /// A callback that throws refuses the client with a handshake_failure alert.
    @Test func throwingCallbackRefusesTheHandshake() throws {
        let pair = try TLSPair()
        struct UnknownName: Error {}
        pair.server.sniCallback = { _, name, _ in
            if name != "localhost" { throw UnknownName() }
        }
        let failure = try runLoop { loop -> (any Error)? in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            defer { server.close() }
            do {
                _ = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port, ssl: pair.client,
                                                  serverHostname: "elsewhere.example")
                return nil
            } catch {
                return error
            }
        }
        #expect((failure as? SSLError)?.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", "\(String(describing: failure))")
    }
}
