import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Our TLS against the `openssl` command's own server and client, an expired
/// certificate, and a client that sends bytes that are not TLS.
@Suite(.serialized, .suiteLimit) struct TLSInteropTests {
    init() { LogCapture.install() }

    /// `openssl s_server -rev` answers each line reversed.
    @Test func ourClientAgainstOpenSSLServer() throws {
        let pair = try TLSPair()
        let directory = temporaryDirectory()
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        writeFile("\(directory)/cert.pem", pair.certificate.certificatePEM)
        writeFile("\(directory)/key.pem", pair.certificate.privateKeyPEM)
        let server = try ChildProcess("/usr/bin/env", ["openssl", "s_server", "-accept", "0", "-rev", "-naccept", "1",
                                                       "-cert", "\(directory)/cert.pem", "-key", "\(directory)/key.pem"])
        defer { server.signal(SIGKILL); _ = server.wait(timeout: 10) }
        var port: Int?
        while port == nil, let line = server.readLine(timeout: 30) {
            port = line.firstMatch(of: /^ACCEPT .*:(\d+)$/).flatMap { Int($0.1) }
        }
        let reply = try runLoop { loop -> String in
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: try #require(port),
                                                                 ssl: pair.client)
            writer.write("hello openssl\n")
            let reply = try await reader.readline(as: String.self)
            writer.close()
            try await writer.waitClosed()
            return reply
        }
        #expect(reply == "lssnepo olleh\n")
    }

    /// `openssl s_client` verifies our certificate and host name, reads our
    /// greeting, and ends when we close (with close_notify).
    @Test func openSSLClientAgainstOurServer() throws {
        let pair = try TLSPair()
        let directory = temporaryDirectory()
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        writeFile("\(directory)/cert.pem", pair.certificate.certificatePEM)
        let (status, output) = try runLoop { loop -> (Termination?, String) in
            let server = try await loop.startServer({ _, writer in
                writer.write("hello from swift\n")
                writer.close()
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            let client = try ChildProcess("/usr/bin/env", [
                "openssl", "s_client", "-connect", "127.0.0.1:\(server.addresses[0].port)", "-servername", "localhost",
                "-verify_hostname", "localhost", "-verify_return_error", "-CAfile", "\(directory)/cert.pem",
                "-quiet", "-ign_eof",
            ])
            try await yieldUntil(timeout: 60) { client.wait(timeout: 0) != nil }
            server.close()
            try await server.waitClosed()
            return (client.wait(timeout: 0), String(decoding: client.stdout, as: UTF8.self))
        }
        #expect(status == .exited(0))
        #expect(output == "hello from swift\n")
    }

    @Test func anExpiredCertificateIsATypedErrorAndTheServerKeepsServing() throws {
        let expired = try SelfSignedCertificate.generate(hostName: "localhost", days: -1)
        let serverContext = try SSLContext(purpose: .server)
        try serverContext.loadCertChain(certData: expired.certificatePEM, keyData: expired.privateKeyPEM)
        let trusting = try SSLContext.makeDefault(purpose: .client)
        try trusting.loadVerifyLocations(caData: expired.certificatePEM)
        let mark = LogCapture.count
        let (failure, afterwards) = try runLoop { loop -> ((any Error)?, [UInt8]) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: serverContext)
            let port = server.addresses[0].port
            var failure: (any Error)?
            do {
                _ = try await loop.openConnection(host: "localhost", port: port, ssl: trusting)
            } catch {
                failure = error
            }
            // The server still serves a client that does not verify.
            let lenient = try SSLContext(purpose: .client)
            lenient.checkHostname = false
            try lenient.setVerifyMode(.none)
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: lenient)
            writer.write([4, 5, 6])
            let echoed = try await reader.readexactly(3)
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return (failure, echoed)
        }
        let error = try #require(failure as? SSLCertVerificationError)
        #expect(error.verifyCode == 10)  // X509_V_ERR_CERT_HAS_EXPIRED
        #expect("\(error)" == "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired")
        #expect(afterwards == [4, 5, 6])
        #expect(LogCapture.messages(since: mark).contains { $0.hasPrefix("SSL handshake failed") })
    }

    /// Bytes that are no TLS record end the connection with the server's
    /// descriptor closed; the server goes on serving.
    @Test func aClientSendingGarbageIsDropped() throws {
        let pair = try TLSPair()
        // A fixed pseudo-random kilobyte, then what looks like a record
        // header with an impossible length.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let garbage = (0..<1024).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        } + [0x16, 0x03, 0x03, 0xff, 0xff]
        let (port, echoed) = try runLoop { loop -> (Int, [UInt8]) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            let (_, probe) = try await loop.createConnection({ PlainProbe(loop: loop, greeting: garbage) },
                                                             host: "127.0.0.1", port: port)
            try await probe.lost.value
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
            writer.write([9])
            let echoed = try await reader.readexactly(1)
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return (port, echoed)
        }
        #expect(echoed == [9])
        #expect(descriptorsUsingPort(port) == 0)
    }
}
