import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Records what a datagram endpoint's transport calls, and echoes each
/// datagram back to its sender when asked.
@LoopActor
final class DatagramRecorder: DatagramProtocol {
    var transport: (any DatagramTransport)?
    var received: [(data: [UInt8], addr: SocketAddress)] = []
    var errors: [OSError] = []
    var lost: [String] = []
    var pauses = 0
    var resumes = 0
    let echoes: Bool

    init(echoes: Bool = false) { self.echoes = echoes }

    func connectionMade(_ transport: any DatagramTransport) { self.transport = transport }
    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) {
        received.append((data, addr))
        if echoes {
            do { try transport?.sendto(data, addr) } catch { Issue.record("echo failed: \(error)") }
        }
    }
    func errorReceived(_ error: OSError) { errors.append(error) }
    func connectionLost(_ error: (any Error)?) { lost.append(error.map { "\($0)" } ?? "nil") }
    func pauseWriting() { pauses += 1 }
    func resumeWriting() { resumes += 1 }
}

/// Sends datagram `i` only once datagram `i - 1` has come back, so UDP has
/// nothing to drop or reorder; checks every echo's bytes.
@LoopActor
final class PingPongClient: DatagramProtocol {
    let count: Int
    let done: Future<Int>
    private var transport: (any DatagramTransport)?
    private var next = 0
    private var expected: [UInt8] = []

    init(count: Int, loop: EventLoop) {
        self.count = count
        done = Future(loop: loop)
    }

    /// Datagram `i`: its size varies from 0 to 1,499 bytes, with a 60,000-byte
    /// one every 1,000th; its bytes depend on `i` and the offset.
    static func payload(_ i: Int) -> [UInt8] {
        let size = i % 1000 == 999 ? 60_000 : (i &* 7919) % 1500
        return (0..<size).map { UInt8(truncatingIfNeeded: i &+ $0 &* 31) }
    }

    func connectionMade(_ transport: any DatagramTransport) {
        self.transport = transport
        sendNext()
    }

    private func sendNext() {
        expected = Self.payload(next)
        do { try transport?.sendto(expected) } catch { try? done.setException(error) }
    }

    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) {
        guard !done.isDone else { return }
        guard data == expected else {
            try? done.setException(OSError(errno: EBADMSG, operation: "echo \(next): \(data.count) bytes, wanted \(expected.count)"))
            return
        }
        next += 1
        if next == count { try? done.setResult(next) } else { sendNext() }
    }

    func errorReceived(_ error: OSError) { try? done.setException(error) }
}

/// Sends `data` and waits for the echo, so the datagrams of a test keep
/// their order without assuming UDP keeps it.
@LoopActor
func roundTrip(_ transport: any DatagramTransport, _ data: [UInt8], to addr: SocketAddress? = nil,
               echoedTo client: DatagramRecorder) async throws {
    let seen = client.received.count
    try transport.sendto(data, addr)
    try await yieldUntil { client.received.count > seen }
}

/// A UDP port nothing listens on: bound, read, and let go.
func unusedUDPPort(_ host: String) throws -> Int {
    let address = try #require(SocketAddress(ip: host, port: 0))
    let fd = try Socket.open(family: address.family, type: Int32(SOCK_DGRAM.rawValue))
    defer { SystemCall.close(fd) }
    try Socket.bind(fd, to: address)
    return try #require(Socket.localAddress(fd)).port
}

@Suite struct DatagramTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func echoBetweenTwoUnconnectedEndpoints(host: String) throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint(
                { DatagramRecorder(echoes: true) }, localAddr: (host, 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            #expect(serverAddress.host == host && serverAddress.port != 0)
            #expect(serverTransport.getExtraInfo("peername") as? SocketAddress == nil)

            let (clientTransport, client) = try await loop.createDatagramEndpoint(
                { DatagramRecorder() }, localAddr: (host, 0))
            let clientAddress = try #require(clientTransport.getExtraInfo("sockname") as? SocketAddress)
            let messages: [[UInt8]] = [Array("hello".utf8), [], Array(repeating: 7, count: 9000)]
            for message in messages { try await roundTrip(clientTransport, message, to: serverAddress, echoedTo: client) }

            #expect(server.received.map(\.data) == messages)
            #expect(server.received.allSatisfy { $0.addr == clientAddress })
            #expect(client.received.map(\.data) == messages)
            #expect(client.received.allSatisfy { $0.addr == serverAddress })
            #expect(throws: DatagramError.addressRequired) { try clientTransport.sendto([1]) }
            #expect(client.errors.isEmpty && server.errors.isEmpty)

            clientTransport.close()
            serverTransport.close()
            #expect(clientTransport.isClosing)
            try await yieldUntil { client.lost == ["nil"] && server.lost == ["nil"] }
        }
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func connectedEndpointSendsToItsPeerOnly(host: String) throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint(
                { DatagramRecorder(echoes: true) }, localAddr: (host, 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, client) = try await loop.createDatagramEndpoint(
                { DatagramRecorder() }, remoteAddr: (host, serverAddress.port))
            #expect(transport.getExtraInfo("peername") as? SocketAddress == serverAddress)

            try await roundTrip(transport, Array("one".utf8), echoedTo: client)
            try await roundTrip(transport, Array("two".utf8), to: serverAddress, echoedTo: client)
            #expect(client.received.map { String(decoding: $0.data, as: UTF8.self) } == ["one", "two"])

            let elsewhere = try #require(SocketAddress(ip: host, port: serverAddress.port == 9 ? 10 : 9))
            do throws(DatagramError) {
                try transport.sendto([1], elsewhere)
                Issue.record("sendto to another address than the remote one was accepted")
            } catch {
                #expect(error == .invalidAddress(expected: serverAddress))
                #expect("\(error)" == "Invalid address: must be nil or \(serverAddress), the endpoint's remote address")
            }
            #expect(server.received.count == 2)
            transport.close()
            serverTransport.close()
            try await yieldUntil { client.lost.count == 1 && server.lost.count == 1 }
        }
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func portUnreachableIsConnectionRefusedOnAConnectedEndpoint(host: String) throws {
        let port = try unusedUDPPort(host)
        try runLoop { loop in
            let (transport, client) = try await loop.createDatagramEndpoint({ DatagramRecorder() },
                                                                            remoteAddr: (host, port))
            try transport.sendto(Array("anyone there?".utf8))
            try await yieldUntil { !client.errors.isEmpty }
            #expect(client.errors.map(\.errno) == [ECONNREFUSED])
            // An error reaches the protocol; the endpoint stays open.
            #expect(!transport.isClosing && client.lost.isEmpty)
            transport.close()
            try await yieldUntil { client.lost == ["nil"] }
        }
    }

    @Test func aDatagramTooLargeIsReportedAndTheEndpointGoesOn() throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint({ DatagramRecorder(echoes: true) },
                                                                                 localAddr: ("127.0.0.1", 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, client) = try await loop.createDatagramEndpoint({ DatagramRecorder() },
                                                                            remoteAddr: ("127.0.0.1", serverAddress.port))
            // IPv4 carries at most 65,507 bytes of UDP payload.
            try transport.sendto([UInt8](repeating: 1, count: 70_000))
            #expect(client.errors.map(\.errno) == [EMSGSIZE])
            try await roundTrip(transport, Array("still here".utf8), echoedTo: client)
            #expect(server.received.map(\.data) == [Array("still here".utf8)])
            #expect(!transport.isClosing && client.lost.isEmpty)
            transport.close()
            serverTransport.close()
        }
    }

    @Test func pythonPeerEchoesOurDatagrams() throws {
        let script = """
        import socket
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(('127.0.0.1', 0))
        print(sock.getsockname()[1], flush=True)
        while True:
            data, addr = sock.recvfrom(65536)
            if data == b'quit':
                break
            sock.sendto(data.upper(), addr)
        print('done', flush=True)
        """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", script])
        let port = try #require(child.readLine(timeout: 30).flatMap { Int($0) })
        let replies = try runLoop { loop -> [String] in
            let (transport, client) = try await loop.createDatagramEndpoint({ DatagramRecorder() },
                                                                            remoteAddr: ("localhost", port), family: AF_INET)
            for word in ["hello", "from", "swift"] {
                try transport.sendto(Array(word.utf8))
                let seen = client.received.count
                try await yieldUntil(timeout: 30) { client.received.count > seen }
            }
            try transport.sendto(Array("quit".utf8))
            transport.close()
            return client.received.map { String(decoding: $0.data, as: UTF8.self) }
        }
        #expect(replies == ["HELLO", "FROM", "SWIFT"])
        #expect(child.readLine(timeout: 30) == "done")
        #expect(child.wait(timeout: 30) == .exited(0))
    }

    @Test func pythonAsyncioPeerTalksToOurEndpoint() throws {
        let script = """
        import asyncio, sys
        class Client(asyncio.DatagramProtocol):
            def __init__(self, done):
                self.done = done
            def connection_made(self, transport):
                transport.sendto(b'ping from asyncio')
            def datagram_received(self, data, addr):
                print(data.decode(), flush=True)
                self.done.set_result(None)
        async def main():
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: Client(done), remote_addr=('::1', int(sys.argv[1])))
            await asyncio.wait_for(done, 30)
            transport.close()
        asyncio.run(main())
        """
        let output = try runLoop { loop -> String in
            let (transport, server) = try await loop.createDatagramEndpoint({ DatagramRecorder(echoes: true) },
                                                                            localAddr: ("::1", 0))
            let port = try #require(transport.getExtraInfo("sockname") as? SocketAddress).port
            let child = try ChildProcess("/usr/bin/env", ["python3", "-c", script, "\(port)"])
            try await yieldUntil(timeout: 60) { child.wait(timeout: 0) != nil }
            #expect(child.wait(timeout: 0) == .exited(0))
            #expect(server.received.map { String(decoding: $0.data, as: UTF8.self) } == ["ping from asyncio"])
            transport.close()
            return String(decoding: child.stdout + child.stderr, as: UTF8.self)
        }
        #expect(output == "ping from asyncio\n")
    }

    @Test func closeLetsGoOfTransportAndProtocol() throws {
        struct Weak: Sendable {
            weak var transport: SocketDatagramTransport?
            weak var protocolObject: DatagramRecorder?
        }
        let references = try runLoop { loop -> Weak in
            var references = Weak()
            do {
                let (transport, recorder) = try await loop.createDatagramEndpoint({ DatagramRecorder() },
                                                                                 localAddr: ("127.0.0.1", 0))
                references = Weak(transport: transport as? SocketDatagramTransport, protocolObject: recorder)
                #expect(references.transport != nil)
                #expect(transport.getExtraInfo("socket") is Int32)
                // The protocol keeps its transport: the cycle must break at connectionLost.
                #expect(recorder.transport === transport)
                transport.close()
                transport.close()
                try await sleep(0)
                try await sleep(0)
                #expect(recorder.lost == ["nil"])
                // Closed (not checked with fcntl: tests running alongside may reuse the number).
                #expect(transport.getExtraInfo("socket") == nil)
                // Datagrams sent after the close are dropped.
                let somewhere = try #require(SocketAddress(ip: "127.0.0.1", port: 9))
                #expect(throws: Never.self) { try transport.sendto([1], somewhere) }
            }
            try await sleep(0)
            return references
        }
        #expect(references.transport == nil)
        #expect(references.protocolObject == nil)
    }

    @Test func closingTheLoopEndsAnOpenEndpoint() throws {
        struct Weak: Sendable { weak var protocolObject: DatagramRecorder? }
        let loop = EventLoop()
        let reference = try loop.runUntilComplete { () -> Weak in
            let (_, recorder) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("127.0.0.1", 0))
            return Weak(protocolObject: recorder)
        }
        // Still open, the transport and its protocol hold each other.
        #expect(reference.protocolObject != nil)
        try loop.close()
        #expect(reference.protocolObject == nil)
    }

    @Test func tenThousandDatagramsOfVaryingSizeComeBackInOrder() throws {
        let count = try runLoop { loop -> Int in
            let (serverTransport, _) = try await loop.createDatagramEndpoint({ DatagramRecorder(echoes: true) },
                                                                            localAddr: ("127.0.0.1", 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, client) = try await loop.createDatagramEndpoint(
                { PingPongClient(count: 10_000, loop: loop) }, remoteAddr: ("127.0.0.1", serverAddress.port))
            let count = try await waitFor(client.done, timeout: 120)
            transport.close()
            serverTransport.close()
            return count
        }
        #expect(count == 10_000)
    }

    /// A Unix datagram socket pair is reliable and ordered, and a full
    /// receiver makes the sender's socket would-block: the transport's
    /// buffer and water marks, on real sockets.
    @Test func fullSocketBuffersAndPausesThenDrainsInOrder() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        let (senderFD, receiverFD) = (pair[0], pair[1])
        try runLoop { loop in
            let (sender, senderProtocol) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, sock: senderFD)
            sender.setWriteBufferLimits(high: 20_000, low: 5_000)
            var sent: [[UInt8]] = []
            while sender.writeBufferSize == 0 || senderProtocol.pauses == 0 {
                guard sent.count < 100_000 else {
                    Issue.record("100,000 datagrams went into a socket nobody reads without blocking")
                    return
                }
                let datagram = (0..<1000).map { UInt8(truncatingIfNeeded: sent.count &+ $0) }
                try sender.sendto(datagram)
                sent.append(datagram)
            }
            #expect(senderProtocol.pauses == 1 && senderProtocol.resumes == 0)
            #expect(sender.writeBufferSize > 20_000)
            // Closing waits for the buffer to go out.
            sender.close()
            try await sleep(0)
            #expect(senderProtocol.lost.isEmpty)

            let (receiver, receiverProtocol) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, sock: receiverFD)
            try await yieldUntil { receiverProtocol.received.count == sent.count && !senderProtocol.lost.isEmpty }
            #expect(receiverProtocol.received.map(\.data) == sent)
            #expect(senderProtocol.resumes == 1)
            #expect(senderProtocol.lost == ["nil"])
            #expect(sender.writeBufferSize == 0)
            receiver.close()
        }
    }

    @Test func badAddressesAreTypedOneLineErrors() throws {
        try runLoop { loop in
            do {
                _ = try await loop.createDatagramEndpoint({ DatagramRecorder() }, remoteAddr: ("no-such-host.invalid", 9))
                Issue.record("an unresolvable host was accepted")
            } catch let error as GAIError {
                #expect(!"\(error)".contains("\n") && "\(error)".hasPrefix("[Errno -"))
            }
            do {
                _ = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("192.0.2.1", 0))
                Issue.record("binding an address this machine does not have was accepted")
            } catch let error as OSError {
                #expect(error.errno == EADDRNOTAVAIL)
                #expect("\(error)" == "[Errno 99] Cannot assign requested address (bind ('192.0.2.1', 0))")
            }
            await #expect(throws: DatagramError.unexpectedAddressFamily) {
                _ = try await loop.createDatagramEndpoint { DatagramRecorder() }
            }
            await #expect(throws: DatagramError.noAddressInformation) {
                _ = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("127.0.0.1", 0),
                                                          remoteAddr: ("::1", 9))
            }
            let stream = try Socket.open(family: AF_INET)
            defer { SystemCall.close(stream) }
            await #expect(throws: DatagramError.notDatagramSocket(fd: stream)) {
                _ = try await loop.createDatagramEndpoint({ DatagramRecorder() }, sock: stream)
            }
            #expect("\(DatagramError.noAddressInformation)".split(separator: "\n").count == 1)
        }
    }

    @Test func familyAloneMakesAnUnboundEndpointThatCanSend() throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint({ DatagramRecorder() },
                                                                                 localAddr: ("127.0.0.1", 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, _) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, family: AF_INET)
            try transport.sendto(Array("hi".utf8), serverAddress)
            try await yieldUntil { server.received.count == 1 }
            #expect(server.received[0].data == Array("hi".utf8))
            transport.close()
            serverTransport.close()
        }
    }

    @Test func localAndRemoteAddressTogether() throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint({ DatagramRecorder(echoes: true) },
                                                                                 localAddr: ("::1", 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, client) = try await loop.createDatagramEndpoint(
                { DatagramRecorder() }, localAddr: ("::1", 0), remoteAddr: ("::1", serverAddress.port))
            let clientAddress = try #require(transport.getExtraInfo("sockname") as? SocketAddress)
            #expect(clientAddress.host == "::1" && clientAddress.port != 0)
            #expect(transport.getExtraInfo("peername") as? SocketAddress == serverAddress)
            try transport.sendto(Array("both".utf8))
            try await yieldUntil { client.received.count == 1 }
            #expect(server.received.map(\.addr) == [clientAddress])
            transport.close()
            serverTransport.close()
        }
    }

    /// With `allowBroadcast`, asyncio leaves the socket unconnected and sends
    /// each datagram to the remote address.
    @Test func allowBroadcastSendsToTheRemoteAddressUnconnected() throws {
        try runLoop { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint({ DatagramRecorder(echoes: true) },
                                                                                 localAddr: ("127.0.0.1", 0))
            let serverAddress = try #require(serverTransport.getExtraInfo("sockname") as? SocketAddress)
            let (transport, client) = try await loop.createDatagramEndpoint(
                { DatagramRecorder() }, remoteAddr: ("127.0.0.1", serverAddress.port), allowBroadcast: true)
            #expect(transport.getExtraInfo("peername") as? SocketAddress == nil)
            try await roundTrip(transport, Array("to all".utf8), echoedTo: client)
            try await roundTrip(transport, Array("and you".utf8), to: serverAddress, echoedTo: client)
            #expect(server.received.map(\.data) == [Array("to all".utf8), Array("and you".utf8)])
            #expect(client.received.allSatisfy { $0.addr == serverAddress })
            transport.close()
            serverTransport.close()
        }
    }

    @Test func unixDatagramEndpointsByPath() throws {
        var template = Array("/tmp/datagram-tests-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        defer { _ = try? ChildProcess.run("/bin/rm", ["-rf", directory]) }
        let serverPath = "\(directory)/server.sock"
        let clientPath = "\(directory)/client.sock"
        try runLoop { loop in
            for round in 0..<2 {
                // The second round binds over the socket files the first left.
                let (serverTransport, server) = try await loop.createUnixDatagramEndpoint(
                    { DatagramRecorder(echoes: true) }, localPath: serverPath)
                let (transport, client) = try await loop.createUnixDatagramEndpoint(
                    { DatagramRecorder() }, localPath: clientPath, remotePath: serverPath)
                #expect((transport.getExtraInfo("peername") as? SocketAddress)?.host == serverPath)
                try await roundTrip(transport, Array("round \(round)".utf8), echoedTo: client)
                #expect(server.received.map(\.addr.host) == [clientPath])
                #expect(client.received.map(\.data) == [Array("round \(round)".utf8)])
                transport.close()
                serverTransport.close()
                try await yieldUntil { client.lost.count == 1 && server.lost.count == 1 }
            }
        }
    }

    @Test func reusePortLetsTwoEndpointsShareAPort() throws {
        try runLoop { loop in
            let (first, _) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("127.0.0.1", 0),
                                                                  reusePort: true)
            let port = try #require(first.getExtraInfo("sockname") as? SocketAddress).port
            let (second, _) = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("127.0.0.1", port),
                                                                   reusePort: true)
            #expect((second.getExtraInfo("sockname") as? SocketAddress)?.port == port)
            await #expect(throws: OSError.self) {
                _ = try await loop.createDatagramEndpoint({ DatagramRecorder() }, localAddr: ("127.0.0.1", port))
            }
            first.close()
            second.close()
        }
    }
}

// docs/library.md's datagram example, as written there.
@LoopActor
private final class EchoServer: DatagramProtocol {
    var transport: (any DatagramTransport)?
    func connectionMade(_ transport: any DatagramTransport) { self.transport = transport }
    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) {
        try? transport?.sendto(data, addr)          // back to the sender
    }
}

@LoopActor
private final class PingClient: DatagramProtocol {
    let reply: Future<[UInt8]>
    init(loop: EventLoop) { reply = Future(loop: loop) }
    func connectionMade(_ transport: any DatagramTransport) { try? transport.sendto(Array("ping".utf8)) }
    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) { try? reply.setResult(data) }
    func errorReceived(_ error: OSError) { try? reply.setException(error) }
}

@Suite struct GuideDatagramExampleTests {
    @Test func theGuidesDatagramExampleRuns() throws {
        let reply = try run {
            let loop = runningLoop()
            let (server, _) = try await loop.createDatagramEndpoint({ EchoServer() }, localAddr: ("127.0.0.1", 0))
            let port = (server.getExtraInfo("sockname") as! SocketAddress).port
            // Connected to the server: sendto without an address goes there.
            let (client, ping) = try await loop.createDatagramEndpoint({ PingClient(loop: loop) },
                                                                       remoteAddr: ("127.0.0.1", port))
            defer { client.close(); server.close() }
            return try await ping.reply.value
        }
        #expect(String(decoding: reply, as: UTF8.self) == "ping")
    }
}
