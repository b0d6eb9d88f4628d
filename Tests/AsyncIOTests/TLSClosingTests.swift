import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// A server-side application protocol that tells the test what happens.
@LoopActor
private final class ServerEnd: StreamingProtocol {
    private(set) var transport: (any Transport)?
    let lost: Future<(any Error)?>
    private(set) var received: [UInt8] = []
    private(set) var eofs = 0
    /// Pauses reading at every delivery, as a slow consumer does.
    var pauseOnData = false
    /// Aborts the connection at the first delivery.
    var abortOnData = false

    init(loop: EventLoop) {
        lost = Future(loop: loop)
    }

    func connectionMade(_ transport: any Transport) { self.transport = transport }
    func dataReceived(_ data: [UInt8]) {
        received += data
        if pauseOnData { transport?.pauseReading() }
        if abortOnData { transport?.abort() }
    }
    func eofReceived() -> Bool {
        eofs += 1
        return false
    }
    func connectionLost(_ error: (any Error)?) { try? lost.setResult(error) }
}

/// How a TLS connection ends: close_notify both ways, timeouts, aborts,
/// and peers that end it badly. Each test also checks that no socket of
/// its port is left open.
@Suite(.serialized, .suiteLimit) struct TLSClosingTests {
    init() { LogCapture.install() }

    /// A server with one `ServerEnd` per connection, and a raw TLS client connected to it.
    @LoopActor
    private func connect(_ loop: EventLoop, _ pair: TLSPair, shutdownTimeout: Double? = nil)
        async throws -> (Server, ServerEnd, RawTLSPeer)
    {
        var ends: [ServerEnd] = []
        let server = try await loop.createServer({
            let end = ServerEnd(loop: loop)
            ends.append(end)
            return end
        }, host: "127.0.0.1", port: 0, ssl: pair.server, sslShutdownTimeout: shutdownTimeout)
        let (_, peer) = try await loop.createConnection({ try! RawTLSPeer(context: pair.client) }, host: "127.0.0.1",
                                                       port: server.addresses[0].port)
        try await yieldUntil { ends.first?.transport != nil }
        // Once this byte is in, so are TLS 1.3's session tickets before it:
        // a socket closed with unread bytes would send a reset, not a FIN.
        ends[0].transport?.write([0])
        try await yieldUntil { peer.received == [0] }
        return (server, ends[0], peer)
    }

    /// `close()` sends close_notify, and the socket stays open until the
    /// peer's close_notify comes back; only then is the connection lost.
    @Test func closeWaitsForThePeersCloseNotify() throws {
        let pair = try TLSPair()
        let (heldOpen, error, peerSawEof, port) = try runLoop { loop -> (Bool, (any Error)?, Bool, Int) in
            let (server, end, peer) = try await connect(loop, pair)
            let transport = try #require(end.transport)
            transport.close()
            #expect(transport.isClosing)
            try await yieldUntil { peer.sawCloseNotify }
            // Nothing but the peer's close_notify (or 30 s) can end it now.
            let heldOpen = !end.lost.isDone && !peer.sawEof
            peer.sendCloseNotify()
            let error = try await end.lost.value
            try await yieldUntil { peer.sawEof }
            peer.transport?.close()
            server.close()
            try await server.waitClosed()
            return (heldOpen, error, peer.sawEof, server.addresses[0].port)
        }
        #expect(heldOpen)
        #expect(error == nil)
        #expect(peerSawEof)
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// A peer that never answers close_notify: the connection is aborted
    /// after the shutdown timeout, with asyncio's TimeoutError.
    @Test func shutdownTimesOutWhenThePeerDoesNotAnswer() throws {
        let pair = try TLSPair()
        let (error, port) = try runLoop { loop -> ((any Error)?, Int) in
            let (server, end, peer) = try await connect(loop, pair, shutdownTimeout: 0.1)
            end.transport?.close()
            let error = try await end.lost.value
            #expect(peer.sawCloseNotify)
            try await yieldUntil { peer.sawEof || peer.isLost }
            peer.transport?.close()
            server.close()
            try await server.waitClosed()
            return (error, server.addresses[0].port)
        }
        #expect(error as? TimeoutError == TimeoutError("SSL shutdown timed out"))
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// `abort()` closes the socket at once, sending no close_notify.
    @Test func abortDoesNotWait() throws {
        let pair = try TLSPair()
        let (error, sawCloseNotify, port) = try runLoop { loop -> ((any Error)?, Bool, Int) in
            let (server, end, peer) = try await connect(loop, pair)
            end.transport?.abort()
            let error = try await end.lost.value
            try await yieldUntil { peer.sawEof || peer.isLost }
            peer.transport?.close()
            server.close()
            try await server.waitClosed()
            return (error, peer.sawCloseNotify, server.addresses[0].port)
        }
        #expect(error == nil)
        #expect(!sawCloseNotify)
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// After `abort()` the application is given nothing more, even records
    /// that arrived in the same read as the one it aborted on.
    @Test func nothingIsDeliveredAfterAbort() throws {
        let pair = try TLSPair()
        let received = try runLoop { loop -> [UInt8] in
            let (server, end, peer) = try await connect(loop, pair)
            end.abortOnData = true
            peer.transport?.write(peer.encrypt([1]) + peer.encrypt([2]) + peer.encrypt([3]))
            _ = try await end.lost.value
            peer.transport?.close()
            server.close()
            try await server.waitClosed()
            return end.received
        }
        #expect(received == [1])
    }

    /// `Server.closeClients()` closes TLS connections the TLS way.
    @Test func closeClientsSendsCloseNotify() throws {
        let pair = try TLSPair()
        let (error, port) = try runLoop { loop -> ((any Error)?, Int) in
            let (server, end, peer) = try await connect(loop, pair)
            server.close()
            server.closeClients()
            try await yieldUntil { peer.sawCloseNotify }
            peer.sendCloseNotify()
            let error = try await end.lost.value
            try await server.waitClosed()
            try await yieldUntil { peer.sawEof }
            peer.transport?.close()
            return (error, server.addresses[0].port)
        }
        #expect(error == nil)
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// A peer that closes TCP without close_notify: every byte it sent
    /// first arrives, then EOF, then `connectionLost(nil)` (asyncio's
    /// account of it), also when the application had paused reading before
    /// the data came, or pauses at each delivery.
    @Test(arguments: ["never", "before", "each read"])
    func peerClosingWithoutCloseNotifyLosesNoData(pausing: String) throws {
        let pair = try TLSPair()
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let (received, eofs, error, port) = try runLoop { loop -> ([UInt8], Int, (any Error)?, Int) in
            let (server, end, peer) = try await connect(loop, pair)
            let transport = try #require(end.transport)
            if pausing == "before" { transport.pauseReading() }
            end.pauseOnData = pausing == "each read"
            peer.send(payload)
            peer.transport?.close()
            if pausing == "before" {
                try await yieldUntil { peer.isLost }
                #expect(!end.lost.isDone)
                transport.resumeReading()
            }
            while pausing == "each read", !end.lost.isDone {
                try await yieldUntil { end.lost.isDone || !transport.isReading }
                transport.resumeReading()
            }
            let error = try await end.lost.value
            server.close()
            try await server.waitClosed()
            return (end.received, end.eofs, error, server.addresses[0].port)
        }
        let intact = sameBytes(received, payload)
        #expect(intact, "\(received.count) of \(payload.count) bytes")
        #expect(eofs == 1)
        #expect(error == nil)
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// A peer that resets the connection in the middle of a record: the
    /// whole records before it are delivered, the application hears of the
    /// reset, and the server goes on serving.
    @Test func peerResettingMidRecord() throws {
        let pair = try TLSPair()
        let (received, error, port) = try runLoop { loop -> ([UInt8], (any Error)?, Int) in
            let (server, end, peer) = try await connect(loop, pair)
            peer.send(Array("whole record".utf8))
            let cut = peer.encrypt([UInt8](repeating: 9, count: 1000))
            peer.transport?.write(Array(cut.prefix(cut.count / 2)))
            try await yieldUntil { end.received.count == 12 }
            peer.reset()
            let error = try await end.lost.value
            // The server still serves: a second client completes its handshake and is heard.
            let (_, second) = try await loop.createConnection({ try! RawTLSPeer(context: pair.client) },
                                                              host: "127.0.0.1", port: server.addresses[0].port)
            try await yieldUntil { second.handshakeDone }
            second.sendCloseNotify()
            try await yieldUntil { second.sawEof }
            second.transport?.close()
            server.close()
            try await server.waitClosed()
            return (end.received, error, server.addresses[0].port)
        }
        #expect(received == Array("whole record".utf8))
        #expect((error as? OSError)?.errno == ECONNRESET, "\(String(describing: error))")
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// A client that connects and says nothing is dropped after the
    /// handshake timeout, logged, and the server goes on.
    @Test func silentClientIsDroppedAfterTheHandshakeTimeout() throws {
        let pair = try TLSPair()
        let (logged, echoed, port) = try runLoop { loop -> ([String], [UInt8], Int) in
            let mark = LogCapture.count
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0, ssl: pair.server,
                                                    sslHandshakeTimeout: 0.1)
            let port = server.addresses[0].port
            let (silent, probe) = try await loop.createConnection({ PlainProbe(loop: loop, greeting: []) },
                                                                  host: "127.0.0.1", port: port)
            try await probe.lost.value
            #expect(silent.isClosing)
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, ssl: pair.client)
            writer.write([1, 2])
            let echoed = try await reader.readexactly(2)
            writer.close()
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return (LogCapture.messages(since: mark), echoed, port)
        }
        #expect(logged.contains { $0.hasSuffix("SSL handshake is taking longer than 0.1 seconds: aborting the connection") },
                "\(logged)")
        #expect(echoed == [1, 2])
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// A TLS client on a plain TCP port meets bytes that are not TLS: a
    /// typed SSLError, and nothing left open.
    @Test func tlsClientOnAPlainPort() throws {
        let pair = try TLSPair()
        let (failure, port) = try runLoop { loop -> ((any Error)?, Int) in
            let server = try await loop.startServer(echoUntilEnd, host: "127.0.0.1", port: 0)
            var failure: (any Error)?
            do {
                _ = try await loop.openConnection(host: "localhost", port: server.addresses[0].port, ssl: pair.client)
            } catch {
                failure = error
            }
            server.close()
            server.closeClients()
            try await server.waitClosed()
            return (failure, server.addresses[0].port)
        }
        let error = try #require(failure as? SSLError)
        #expect(error.library == "SSL", "\(error)")
        #expect(descriptorsUsingPort(port) == 0)
    }
}
