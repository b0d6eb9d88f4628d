import Testing
@testable import AsyncIO
import TestSupport

/// `SSLContext`'s settings that depend on each other, as Python ties them.
@Suite(.serialized, .suiteLimit) struct TLSContextTests {
    init() { LogCapture.install() }

    @Test func verifyModeNoneIsRefusedWhileHostNamesAreChecked() throws {
        let context = try SSLContext(purpose: .client)
        #expect(context.checkHostname)
        #expect(throws: ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")) {
            try context.setVerifyMode(.none)
        }
        #expect(context.verifyMode == .required)
        context.checkHostname = false
        try context.setVerifyMode(.none)
        #expect(context.verifyMode == .none)
        // Turning the check back on needs verification again, so it raises the mode.
        context.checkHostname = true
        #expect(context.verifyMode == .required)
        try context.setVerifyMode(.optional)
        #expect(context.verifyMode == .optional)
    }

    /// A client that does not verify gets Python's `{}` for the server's
    /// certificate; one that verifies gets its fields.
    @Test func peercertIsEmptyWhenThePeerWasNotVerified() throws {
        let pair = try TLSPair()
        let insecure = try SSLContext(purpose: .client)
        insecure.checkHostname = false
        try insecure.setVerifyMode(.none)
        let (unverified, verified) = try runLoop { loop -> (PeerCertificate?, PeerCertificate?) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            var seen: [PeerCertificate?] = []
            for context in [insecure, pair.client] {
                let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: context)
                writer.write([42])
                _ = try await reader.readexactly(1)
                seen.append(writer.getExtraInfo("peercert") as? PeerCertificate)
                writer.close()
                try await writer.waitClosed()
            }
            server.close()
            try await server.waitClosed()
            return (seen[0], seen[1])
        }
        #expect(unverified == .empty)
        #expect(unverified?.isEmpty == true)
        #expect(verified?.subject == [.init(name: "commonName", value: "localhost")])
        #expect(verified?.isEmpty == false)
    }

    /// A server that asks for no client certificate has none to show.
    @Test func serverWithoutClientCertificatesSeesNoPeercert() throws {
        let pair = try TLSPair()
        let seen = try runLoop { loop -> Bool in
            let peer = Future<Bool>(loop: loop)
            let server = try await loop.startServer({ reader, writer in
                try? peer.setResult(writer.getExtraInfo("peercert") == nil)
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            let (_, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port, ssl: pair.client)
            let seen = try await peer.value
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return seen
        }
        #expect(seen)
    }
}
