import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

@Suite(.serialized, .suiteLimit) struct TLSTests {
    init() { LogCapture.install() }

    @Test(arguments: [SSLContext.TLSVersion.tlsv1_2, .tlsv1_3])
    func echoOverEachVersion(_ version: SSLContext.TLSVersion) throws {
        let pair = try TLSPair(version: version)
        let (echoed, cipher, peer) = try runLoop { loop -> ([UInt8], SSLCipher?, PeerCertificate?) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
            writer.write(Array("hello over TLS".utf8))
            let echoed = try await reader.readexactly(14)
            let cipher = writer.getExtraInfo("cipher") as? SSLCipher
            let peer = writer.getExtraInfo("peercert") as? PeerCertificate
            #expect(writer.getExtraInfo("sslcontext") as? SSLContext === pair.client)
            #expect(writer.getExtraInfo("peername") as? SocketAddress != nil)
            // asyncio's keys: compression is None without compression (always for TLS 1.3, and
            // Python's defaults turn it off for TLS 1.2), with the SSL object agreeing.
            #expect(writer.getExtraInfo("compression") == nil)
            let sslObject = writer.getExtraInfo("ssl_object") as? SSLObject
            #expect(sslObject != nil)
            #expect(sslObject?.compression() == nil)
            #expect(sslObject?.cipher() == cipher)
            #expect(sslObject?.version() == (version == .tlsv1_2 ? "TLSv1.2" : "TLSv1.3"))
            #expect(!writer.canWriteEof())
            writer.close()
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return (echoed, cipher, peer)
        }
        #expect(String(decoding: echoed, as: UTF8.self) == "hello over TLS")
        #expect(cipher?.protocolVersion == (version == .tlsv1_2 ? "TLSv1.2" : "TLSv1.3"))
        #expect((cipher?.secretBits ?? 0) >= 128)
        #expect(peer?.subject == [.init(name: "commonName", value: "localhost")])
        #expect(peer?.subjectAltName.contains(.init(name: "DNS", value: "localhost")) == true)
        #expect(peer?.subjectAltName.contains(.init(name: "IP Address", value: "127.0.0.1")) == true)
    }

    @Test func untrustedCertificateIsATypedErrorAndTheServerKeepsServing() throws {
        let pair = try TLSPair()
        let (failure, echoed) = try runLoop { loop -> ((any Error)?, [UInt8]) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let port = server.addresses[0].port
            // Trusts the system's authorities only, which never signed this certificate.
            let stranger = try SSLContext.makeDefault(purpose: .client)
            var failure: (any Error)?
            do {
                _ = try await loop.openConnection(host: "localhost", port: port, ssl: stranger)
            } catch {
                failure = error
            }
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
            writer.write([1, 2, 3])
            let echoed = try await reader.readexactly(3)
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return (failure, echoed)
        }
        let error = try #require(failure as? SSLCertVerificationError)
        #expect(error.verifyCode == 18)  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        #expect("\(error)" == "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
        #expect(echoed == [1, 2, 3])
    }

    @Test func wrongHostNameIsRejected() throws {
        let pair = try TLSPair()
        let failure = try runLoop { loop -> (any Error)? in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            defer { server.close() }
            do {
                _ = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port, ssl: pair.client,
                                                  serverHostname: "example.com")
                return nil
            } catch {
                return error
            }
        }
        let error = try #require(failure as? SSLCertVerificationError)
        #expect(error.verifyCode == 62)  // X509_V_ERR_HOSTNAME_MISMATCH
        #expect("\(error)".hasSuffix("certificate verify failed: Hostname mismatch, certificate is not valid for 'example.com'."))
    }

    /// A client that speaks plain HTTP, and one that says nothing until the
    /// handshake times out: both end, and the server's sockets are closed.
    @Test(arguments: [Array("GET / HTTP/1.0\r\n\r\n".utf8), []])
    func nonTLSClientsEndCleanly(_ greeting: [UInt8]) throws {
        let pair = try TLSPair()
        let port = try runLoop { loop -> Int in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server,
                                                    sslHandshakeTimeout: 0.2)
            let port = server.addresses[0].port
            let (transport, probe) = try await loop.createConnection({ PlainProbe(loop: loop, greeting: greeting) },
                                                                     host: "127.0.0.1", port: port)
            try await probe.lost.value
            #expect(transport.isClosing)
            server.close()
            try await server.waitClosed()
            return port
        }
        #expect(descriptorsUsingPort(port) == 0)
    }

    @Test func tenMegabytesEachWayWithFlowControl() throws {
        let pair = try TLSPair()
        // Random words, so that no record repeats and a misplaced one shows.
        var generator = SystemRandomNumberGenerator()
        let payload = [UInt8](unsafeUninitializedCapacity: 10 * 1024 * 1024) { buffer, count in
            UnsafeMutableRawBufferPointer(buffer).withMemoryRebound(to: UInt64.self) { words in
                for index in words.indices { words[index] = generator.next() }
            }
            count = buffer.count
        }
        let echoed = try runLoop { loop -> [UInt8] in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port,
                                                                 ssl: pair.client)
            let sender = loop.createTask {
                var offset = 0
                while offset < payload.count {
                    let end = min(offset + 256 * 1024, payload.count)
                    writer.write(Array(payload[offset..<end]))
                    try await writer.drain()
                    offset = end
                }
            }
            let echoed = try await reader.readexactly(payload.count)
            try await sender.value
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return echoed
        }
        #expect(echoed.count == payload.count)
        #expect(checksum(echoed) == checksum(payload))
    }

    @Test func alpnIsNegotiated() throws {
        let pair = try TLSPair()
        pair.server.setALPNProtocols(["h2", "http/1.1"])
        pair.client.setALPNProtocols(["http/1.1", "spdy/3"])
        let (clientChoice, serverChoice) = try runLoop { loop -> (String?, String?) in
            let seen = Future<String?>(loop: loop)
            let server = try await loop.startServer({ reader, writer in
                try? seen.setResult(writer.getExtraInfo("selected_alpn_protocol") as? String)
                try await echoUntilEnd(reader, writer)
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
            let (_, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port, ssl: pair.client)
            let serverChoice = try await seen.value
            let clientChoice = writer.getExtraInfo("selected_alpn_protocol") as? String
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return (clientChoice, serverChoice)
        }
        #expect(clientChoice == "http/1.1")
        #expect(serverChoice == "http/1.1")
    }

    @Test func writeEofIsRefusedWithAClearError() throws {
        let pair = try TLSPair()
        let messages = try runLoop { loop -> [String] in
            var messages: [String] = []
            loop.setExceptionHandler { _, context in messages.append(context.message) }
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port,
                                                                 ssl: pair.client)
            writer.writeEof()
            writer.write([7])
            #expect(try await reader.readexactly(1) == [7])
            writer.close()
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return messages
        }
        #expect(messages == ["writeEof() is not supported over SSL: TLS has no half-close; send an end marker or close()"])
    }

    @Test func finishedConnectionFreesItsTransportsAndProtocols() throws {
        let pair = try TLSPair()
        let alive = try runLoop { loop -> [String: Int] in
            let watch = LifetimeWatch()
            let server = try await loop.createServer({ TLSEchoProtocol(watch) }, host: "127.0.0.1", port: 0, ssl: pair.server)
            for _ in 0..<3 {
                let (reader, writer) = try await loop.openConnection(host: "localhost", port: server.addresses[0].port,
                                                                     ssl: pair.client)
                watch.watch("client transport", writer.transport)
                writer.write([1, 2])
                _ = try await reader.readexactly(2)
                writer.close()
                try await writer.waitClosed()
            }
            server.close()
            server.closeClients()
            try await server.waitClosed()
            try await sleep(0)
            try await sleep(0)
            #expect(watch.watched == 9)
            return watch.alive
        }
        #expect(alive.isEmpty)
    }

    @Test func ourClientAgainstPythonServer() throws {
        let pair = try TLSPair()
        let directory = temporaryDirectory()
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        writeFile("\(directory)/cert.pem", pair.certificate.certificatePEM)
        writeFile("\(directory)/key.pem", pair.certificate.privateKeyPEM)
        let script = """
        import socket, ssl, sys
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        listener = socket.create_server(('127.0.0.1', 0))
        print(listener.getsockname()[1], flush=True)
        conn, _ = listener.accept()
        with ctx.wrap_socket(conn, server_side=True) as tls:
            data = b''
            while not data.endswith(b'\\0'):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            tls.sendall(data.upper())
            print(tls.version(), flush=True)
        """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", script, "\(directory)/cert.pem", "\(directory)/key.pem"])
        let port = try #require(child.readLine(timeout: 30).flatMap { Int($0) })
        let reply = try runLoop { loop -> [UInt8] in
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
            writer.write(Array("hello python\0".utf8))
            let reply = try await reader.readexactly(13)
            writer.close()
            return reply
        }
        #expect(reply == Array("HELLO PYTHON\0".utf8))
        #expect(child.readLine(timeout: 30) == "TLSv1.3")
        #expect(child.wait(timeout: 30) == .exited(0))
    }

    @Test func pythonClientAgainstOurServer() throws {
        let pair = try TLSPair()
        let directory = temporaryDirectory()
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        writeFile("\(directory)/cert.pem", pair.certificate.certificatePEM)
        let script = """
        import socket, ssl, sys
        ctx = ssl.create_default_context(cafile=sys.argv[1])
        with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as sock:
            with ctx.wrap_socket(sock, server_hostname='localhost') as tls:
                tls.sendall(b'hello from python\\0')
                data = b''
                while not data.endswith(b'\\0'):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                print(data[:-1].decode(), tls.version(), flush=True)
        """
        let output = try runLoop { loop -> String in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server)
            let child = try ChildProcess("/usr/bin/env", ["python3", "-c", script, "\(directory)/cert.pem",
                                                          "\(server.addresses[0].port)"])
            try await yieldUntil(timeout: 60) { child.wait(timeout: 0) != nil }
            server.close()
            try await server.waitClosed()
            #expect(child.wait(timeout: 0) == .exited(0))
            return String(decoding: child.stdout, as: UTF8.self) + String(decoding: child.stderr, as: UTF8.self)
        }
        #expect(output == "hello from python TLSv1.3\n")
    }

    @Test func certificateErrorsArePythonsOneLiners() throws {
        #expect(throws: OSError.self) { try SSLContext(purpose: .server).loadCertChain(certFile: "/nonexistent/cert.pem") }
        let context = try SSLContext(purpose: .server)
        let first = try SelfSignedCertificate.generate()
        let second = try SelfSignedCertificate.generate()
        do {
            try context.loadCertChain(certData: first.certificatePEM, keyData: second.privateKeyPEM)
            Issue.record("a key that does not match its certificate was accepted")
        } catch {
            #expect("\(error)" == "[X509: KEY_VALUES_MISMATCH] key values mismatch")
        }
        do {
            try context.setCiphers("NOT-A-CIPHER")
            Issue.record("an unknown cipher list was accepted")
        } catch {
            #expect("\(error)" == "[SSL: NO_CIPHER_MATCH] No cipher can be selected.")
        }
    }
}
