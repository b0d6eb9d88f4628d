import Testing
@testable import AsyncIO
import TestSupport

/// A server that asks for client certificates (`verifyMode` `.required`
/// or `.optional`) and checks them against `loadVerifyLocations`.
@Suite(.serialized, .suiteLimit) struct TLSClientCertificateTests {
    init() { LogCapture.install() }

    /// What a client without a certificate meets, then what one with it meets.
    private struct Outcome: Sendable {
        var failure: (any Error)?
        var echoed: [UInt8] = []
        var serverSaw: PeerCertificate?
        var logged: [String] = []
    }

    /// Under TLS 1.2 the client's handshake fails with the server's alert;
    /// under TLS 1.3 the client has finished its side before the server
    /// checks, so the alert is the first thing its read meets (as with
    /// Python's ssl). Either way the error is a typed `SSLError`, the server
    /// logs the failure and goes on to serve a client with a certificate.
    @Test(arguments: [SSLContext.TLSVersion.tlsv1_2, .tlsv1_3])
    func requiredCertificateMissingFailsThenAValidOneIsAccepted(_ version: SSLContext.TLSVersion) throws {
        let pair = try TLSPair(version: version)
        let identity = try ClientIdentity()
        try pair.server.setVerifyMode(.required)
        try pair.server.loadVerifyLocations(caData: identity.certificate.certificatePEM)
        let withCertificate = try identity.presented(by: pair)
        let outcome = try runLoop { loop -> Outcome in
            var outcome = Outcome()
            let mark = LogCapture.count
            let seen = Future<PeerCertificate?>(loop: loop)
            let server = try await loop.startServer({ reader, writer in
                if !seen.isDone { try? seen.setResult(writer.getExtraInfo("peercert") as? PeerCertificate) }
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            do {
                let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
                writer.write([1])
                _ = try await reader.read(1)
                writer.close()
            } catch {
                outcome.failure = error
            }
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: withCertificate)
            writer.write([1, 2, 3])
            outcome.echoed = try await reader.readexactly(3)
            outcome.serverSaw = try await seen.value
            writer.close()
            try await writer.waitClosed()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            outcome.logged = LogCapture.messages(since: mark)
            return outcome
        }
        let failure = try #require(outcome.failure as? SSLError)
        if version == .tlsv1_3 {
            #expect(failure.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED")
            #expect("\(failure)" == "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")
        } else {
            #expect(failure.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE")
        }
        #expect(outcome.logged.contains { $0.hasPrefix("SSL handshake failed from 127.0.0.1 port ")
                                          && $0.hasSuffix("[SSL: PEER_DID_NOT_RETURN_A_CERTIFICATE] peer did not return a certificate") },
                "\(outcome.logged)")
        #expect(outcome.echoed == [1, 2, 3])
        #expect(outcome.serverSaw?.subject == [.init(name: "commonName", value: "client")])
    }

    /// A certificate the server does not trust is refused with the
    /// verification error logged on the server.
    @Test func untrustedClientCertificateIsRefused() throws {
        let pair = try TLSPair(version: .tlsv1_2)
        try pair.server.setVerifyMode(.required)
        try pair.server.loadVerifyLocations(caData: ClientIdentity(name: "trusted").certificate.certificatePEM)
        let stranger = try ClientIdentity(name: "stranger").presented(by: pair)
        let (failure, logged) = try runLoop { loop -> ((any Error)?, [String]) in
            let mark = LogCapture.count
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            var failure: (any Error)?
            do {
                _ = try await loop.openConnection(host: "localhost", port: server.addresses[0].port, ssl: stranger)
            } catch {
                failure = error
            }
            server.close()
            try await server.waitClosed()
            return (failure, LogCapture.messages(since: mark))
        }
        #expect((failure as? SSLError)?.reason == "TLSV1_ALERT_UNKNOWN_CA")
        #expect(logged.contains { $0.hasSuffix("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate") },
                "\(logged)")
    }

    /// `.optional`: a client may come without a certificate; one that
    /// presents one has it checked and seen.
    @Test func optionalCertificateMayBeAbsent() throws {
        let pair = try TLSPair()
        let identity = try ClientIdentity()
        try pair.server.setVerifyMode(.optional)
        try pair.server.loadVerifyLocations(caData: identity.certificate.certificatePEM)
        let withCertificate = try identity.presented(by: pair)
        let seen = try runLoop { loop -> [String] in
            var seen: [String] = []
            let server = try await loop.startServer({ reader, writer in
                let peer = writer.getExtraInfo("peercert") as? PeerCertificate
                let name = peer?.subject.first?.value ?? "none"
                writer.write(Array(name.utf8) + [0])
                try await writer.drain()
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            for context in [pair.client, withCertificate] {
                let (reader, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port,
                                                                     ssl: context)
                let line = try await reader.readuntil([0])
                seen.append(String(decoding: line.dropLast(), as: UTF8.self))
                writer.close()
                try await writer.waitClosed()
            }
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return seen
        }
        #expect(seen == ["none", "client"])
    }
}
