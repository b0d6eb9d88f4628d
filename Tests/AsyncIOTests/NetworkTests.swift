import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Echoes everything back; closes its side when the peer does.
@LoopActor
final class EchoServerProtocol: StreamingProtocol {
    var transport: (any Transport)?
    let log: Log
    init(log: Log) { self.log = log }
    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        log("server: connection made")
    }
    func dataReceived(_ data: [UInt8]) { transport?.write(data) }
    func eofReceived() -> Bool {
        log("server: eof")
        return false
    }
    func connectionLost(_ error: (any Error)?) { log("server: lost \(error.map { "\($0)" } ?? "None")") }
}

/// Sends a message, half-closes, and collects what comes back.
@LoopActor
final class EchoClientProtocol: StreamingProtocol {
    let messages: [[UInt8]]
    var received: [UInt8] = []
    let done: Future<[UInt8]>
    let log: Log
    init(messages: [[UInt8]], loop: EventLoop, log: Log) {
        self.messages = messages
        self.done = Future(loop: loop)
        self.log = log
    }
    func connectionMade(_ transport: any Transport) {
        log("client: connection made")
        transport.writelines(messages)
        if transport.canWriteEof() { transport.writeEof() }
    }
    func dataReceived(_ data: [UInt8]) { received += data }
    func eofReceived() -> Bool {
        log("client: eof")
        return false
    }
    func connectionLost(_ error: (any Error)?) {
        log("client: lost \(error.map { "\($0)" } ?? "None")")
        try? done.setResult(received)
    }
}

/// How many of this process's descriptors are TCP sockets with `port` at
/// either end: a leak check that ignores whatever other tests running in
/// parallel open and close.
func descriptorsUsingPort(_ port: Int) -> Int {
    var inodes = Set<String>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let file = fopen(table, "r") else { continue }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        while getline(&line, &capacity, file) > 0 {
            let fields = String(cString: line!).split(separator: " ")
            guard fields.count > 9, fields[0] != "sl" else { continue }
            let ports = [fields[1], fields[2]].compactMap { $0.split(separator: ":").last.flatMap { Int($0, radix: 16) } }
            if ports.contains(port), fields[9] != "0" { inodes.insert(String(fields[9])) }
        }
        free(line)
    }
    guard let links = openDescriptorLinks() else { return -1 }
    return links.filter { $0.hasPrefix("socket:[") && inodes.contains(String($0.dropFirst(8).dropLast())) }.count
}

/// What each of this process's open descriptors refers to, as
/// `/proc/self/fd` names it (`socket:[1234]`, `pipe:[5678]`, a path).
func openDescriptorLinks() -> [String]? {
    guard let directory = opendir("/proc/self/fd") else { return nil }
    defer { closedir(directory) }
    var links: [String] = []
    while let entry = readdir(directory) {
        // Read the name only up to its NUL: a dirent can be shorter than its type.
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        var target = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/self/fd/\(name)", &target, 255)
        guard length > 0 else { continue }
        links.append(String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return links
}

@Suite(.serialized, .suiteLimit) struct NetworkTests {
    @Test func protocolEchoRoundTripWithHalfClose() throws {
        let (echoed, log, peerIsLoopback) = try runLoop { loop -> ([UInt8], [String], Bool) in
            let log = Log()
            let server = try await loop.createServer({ EchoServerProtocol(log: log) }, host: "127.0.0.1", port: 0)
            let port = try #require(server.addresses.first?.port)
            let messages = [Array("This is the message. ".utf8), Array("It will be sent ".utf8), Array("in parts.".utf8)]
            let (transport, client) = try await loop.createConnection(
                { EchoClientProtocol(messages: messages, loop: loop, log: log) }, host: "127.0.0.1", port: port)
            let peer = transport.getExtraInfo("peername") as? SocketAddress
            let echoed = try await client.done.value
            server.close()
            try await server.waitClosed()
            return (echoed, log.entries, peer?.host == "127.0.0.1" && peer?.port == port)
        }
        #expect(String(decoding: echoed, as: UTF8.self) == "This is the message. It will be sent in parts.")
        #expect(peerIsLoopback)
        #expect(log.contains("server: eof") && log.contains("client: eof"))
        #expect(log.contains("server: lost None") && log.contains("client: lost None"))
    }

    /// The server listens on exactly the addresses `getaddrinfo` gives for
    /// its host, passive, all on one port; nil (every interface) usually
    /// resolves to more than one address, 0.0.0.0 and ::.
    @Test(arguments: ["localhost", nil] as [String?])
    func localhostServerListensOnEveryAddressItResolvesTo(_ host: String?) throws {
        let (listening, resolved, ports) = try runLoop { loop -> ([String], [String], Set<Int>) in
            let log = Log()
            let server = try await loop.createServer({ EchoServerProtocol(log: log) }, host: host, port: 0)
            defer { server.close() }
            let resolved = try await loop.resolveStream(host, 0, passive: true)
            return (server.addresses.map { "\($0.family) \($0.host)" }.sorted(),
                    resolved.map { "\($0.family) \($0.address.host)" }.sorted(),
                    Set(server.addresses.map(\.port)))
        }
        #expect(!resolved.isEmpty)
        #expect(listening == resolved)
        #expect(ports.count == 1 && !ports.contains(0))  // one port for all addresses
    }

    @Test func connectionRefusedIsAnOSError() throws {
        let error = try runLoop { loop -> OSError? in
            // Find a port nobody listens on: bind one, then close it.
            let server = try await loop.createServer({ EchoServerProtocol(log: Log()) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            server.close()
            do {
                _ = try await loop.createConnection({ EchoClientProtocol(messages: [], loop: loop, log: Log()) },
                                                    host: "127.0.0.1", port: port)
                return nil
            } catch let error as OSError {
                return error
            }
        }
        #expect(error?.errno == ECONNREFUSED)
    }

    @Test func hostThatDoesNotResolveIsAGAIError() throws {
        let error = try runLoop { loop -> GAIError? in
            do {
                _ = try await loop.getaddrinfo("no-such-host.invalid", 80)
                return nil
            } catch let error as GAIError {
                return error
            }
        }
        #expect(error != nil)
    }

    @Test func closingAServerWithLiveConnectionsLeaksNoDescriptor() throws {
        let (during, after) = try runLoop { loop -> (Int, Int) in
            let log = Log()
            let server = try await loop.createServer({ EchoServerProtocol(log: log) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            var clients: [EchoClientProtocol] = []
            for _ in 0..<10 {
                let (_, client) = try await loop.createConnection(
                    { EchoClientProtocol(messages: [[1, 2, 3]], loop: loop, log: log) }, host: "127.0.0.1", port: port)
                clients.append(client)
            }
            let during = descriptorsUsingPort(port)
            server.close()
            for client in clients { _ = try await client.done.value }
            try await server.waitClosed()
            try await sleep(0)  // let the last connectionLost callbacks close their sockets
            return (during, descriptorsUsingPort(port))
        }
        #expect(during >= 1)  // at least the listener: the check does see sockets
        #expect(after == 0)
    }
}

/// Reads straight into its own buffer (asyncio's BufferedProtocol).
@LoopActor
final class CollectingBufferedProtocol: BufferedProtocol {
    // nonisolated(unsafe): written only by the loop via getBuffer, freed in deinit.
    nonisolated(unsafe) let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    var collected: [UInt8] = []
    var updates = 0
    let done: Future<[UInt8]>
    init(loop: EventLoop) { done = Future(loop: loop) }
    deinit { buffer.deallocate() }
    func getBuffer(_ sizeHint: Int) -> UnsafeMutableRawBufferPointer { buffer }
    func bufferUpdated(_ count: Int) {
        updates += 1
        collected += buffer.prefix(count)
    }
    func eofReceived() -> Bool { false }
    func connectionLost(_ error: (any Error)?) { try? done.setResult(collected) }
}

@Suite(.serialized, .suiteLimit) struct BufferedProtocolTests {
    @Test func bytesArriveInTheProtocolsOwnBuffer() throws {
        let (collected, updates) = try runLoop { loop -> ([UInt8], Int) in
            let payload = streamBytes(at: 0, count: 100_000)  // never repeats, unlike a 256-byte cycle
            let server = try await loop.startServer({ _, writer in
                writer.write(payload)
                try await writer.drain()
                writer.close()
            }, host: "127.0.0.1", port: 0)
            let (_, client) = try await loop.createConnection({ CollectingBufferedProtocol(loop: loop) },
                                                              host: "127.0.0.1", port: server.addresses[0].port)
            let collected = try await client.done.value
            server.close()
            return (collected == payload ? collected : [], client.updates)
        }
        #expect(collected.count == 100_000)
        #expect(updates >= 100_000 / 4096)  // at most 4 KiB per read: the buffer's size
    }
}

/// `OSError.kind` names Python's subclass for an errno, so callers need no
/// C constants.
@Suite struct OSErrorKindTests {
    @Test func aRefusedConnectionIsConnectionRefused() throws {
        let kind = try runLoop { loop -> OSError.Kind? in
            // A port nobody listens on: bind one, learn its number, close it.
            let server = try await loop.createServer({ WatchedEcho(LifetimeWatch()) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            server.close()
            try await server.waitClosed()
            do {
                _ = try await loop.openConnection(host: "127.0.0.1", port: port)
                return nil
            } catch let error as OSError {
                return error.kind
            }
        }
        #expect(kind == .connectionRefused)
    }

    @Test func errnosMapToPythonsSubclasses() {
        #expect(OSError(errno: ECONNRESET, operation: "recv").kind == .connectionReset)
        #expect(OSError(errno: EPIPE, operation: "send").kind == .brokenPipe)
        #expect(OSError(errno: ENOENT, operation: "spawn", filename: "x").kind == .fileNotFound)
        #expect(OSError(errno: EACCES, operation: "spawn").kind == .permission)
        #expect(OSError(errno: EMFILE, operation: "accept").kind == .other)
    }
}

/// `connectAcceptedSocket` takes over a socket that is already connected.
@Suite struct ConnectAcceptedSocketTests {
    @Test func bothEndsOfASocketPairTalkAndAreFreed() throws {
        let (echoed, alive) = try runLoop { loop -> ([UInt8], [String: Int]) in
            var ends: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
            let watch = LifetimeWatch()
            _ = try await loop.connectAcceptedSocket({ WatchedEcho(watch) }, sock: ends[0])
            let (reader, writer) = try await loop.openConnection(sock: ends[1])
            writer.write("ping")
            let echoed = try await reader.readexactly(4)
            writer.close()
            try await writer.waitClosed()
            try await yieldUntil { watch.alive.isEmpty }
            return (echoed, watch.alive)
        }
        #expect(echoed == Array("ping".utf8))
        #expect(alive.isEmpty)
    }

    @Test func aDescriptorThatIsNoSocketIsAnOSErrorAndIsClosed() throws {
        let kind = try runLoop { loop -> OSError.Kind? in
            do {
                _ = try await loop.connectAcceptedSocket({ WatchedEcho(LifetimeWatch()) }, sock: -1)
                return nil
            } catch let error as OSError {
                return error.kind
            }
        }
        #expect(kind == .other)
    }
}
