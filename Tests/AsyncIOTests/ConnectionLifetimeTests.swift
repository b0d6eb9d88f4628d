import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Weak references to what each connection created: once every connection
/// has ended and the loop has run its callbacks, none may still be alive.
@LoopActor
final class LifetimeWatch {
    private struct Entry {
        let kind: String
        weak var object: AnyObject?
    }
    private var entries: [Entry] = []

    func watch(_ kind: String, _ object: AnyObject) {
        entries.append(Entry(kind: kind, object: object))
    }

    var watched: Int { entries.count }

    /// How many objects of each kind are still alive.
    var alive: [String: Int] {
        entries.reduce(into: [:]) { counts, entry in
            if entry.object != nil { counts[entry.kind, default: 0] += 1 }
        }
    }
}

/// A protocol echo server that keeps its transport, as the documentation's does.
@LoopActor
final class WatchedEcho: StreamingProtocol {
    private let watch: LifetimeWatch
    private var transport: (any Transport)?

    init(_ watch: LifetimeWatch) {
        self.watch = watch
        watch.watch("protocol", self)
    }

    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        watch.watch("transport", transport)
    }

    func dataReceived(_ data: [UInt8]) { transport?.write(data) }

    var transportBuffered: Int { transport?.writeBufferSize ?? 0 }

    func eofReceived() -> Bool {
        transport?.writeEof()
        return false
    }
}

/// How a client ends its connection.
enum ClientEnding: CaseIterable {
    /// Sends a message, reads the echo, closes.
    case clean
    /// Sends 200 KB without reading its echo, then resets (SO_LINGER 0).
    case resetWithoutReading
    /// Sends 200 KB without reading its echo, then closes normally.
    case closeWithoutReading
    /// Sends a message, half-closes, reads the echo to EOF.
    case halfClose
    /// Connects and closes without sending anything.
    case silent
}

/// Plays one client against `port` with plain non-blocking sockets.
@LoopActor
func playClient(_ loop: EventLoop, _ address: SocketAddress, _ ending: ClientEnding, seed: UInt64) async throws {
    let fd = try Socket.open(family: AF_INET)
    defer { close(fd) }
    try await loop.sockConnect(fd, address)
    var random = SplitMix(seed: seed)
    func payload(_ size: Int) -> [UInt8] {
        (0..<(size + 7) / 8).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }.prefix(size).map { $0 }
    }
    switch ending {
    case .clean, .halfClose:
        let message = payload(1000)
        try await loop.sockSendall(fd, message)
        if ending == .halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var echoed: [UInt8] = []
        while echoed.count < message.count {
            let chunk = try await loop.sockRecv(fd, 64 * 1024)
            if chunk.isEmpty { break }
            echoed += chunk
        }
        #expect(echoed == message)
        if ending == .halfClose {
            #expect(try await loop.sockRecv(fd, 1) == [])
        }
    case .resetWithoutReading, .closeWithoutReading:
        // The server cannot echo 200 KB to a client that does not read: its
        // writes back up until the client goes.
        try await loop.sockSendall(fd, payload(200 * 1024))
        if ending == .resetWithoutReading {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    case .silent:
        break
    }
}

/// Runs `count` clients of every kind, `batch` at a time.
@LoopActor
func churn(_ loop: EventLoop, port: Int, rounds: Int, batch: Int = 50) async throws {
    let address = try await loop.getaddrinfo("127.0.0.1", port)[0].address
    var seed: UInt64 = 1
    for _ in 0..<rounds {
        var clients: [LoopTask<Void>] = []
        for index in 0..<batch {
            let ending = ClientEnding.allCases[index % ClientEnding.allCases.count]
            seed += 1
            clients.append(loop.createTask { [seed] in try await playClient(loop, address, ending, seed: seed) })
        }
        for client in clients { try await client.value }
    }
}

/// Lets the loop run the callbacks that follow the last connection's end.
@LoopActor
func settle(_ loop: EventLoop) async throws {
    for _ in 0..<10 { try await sleep(0) }
}

/// Four rounds of churn against `server`, then closes it and waits until
/// every connection has ended and the loop has run what followed.
@LoopActor
func churnThenClose(_ loop: EventLoop, _ server: Server) async throws {
    try await churn(loop, port: server.addresses[0].port, rounds: 4)
    server.close()
    try await server.waitClosed()
    try await settle(loop)
}

@Suite(.serialized, .suiteLimit) struct ConnectionLifetimeTests {
    /// Clean, reset, unread, half-closed and silent clients against a
    /// protocol server: after the last has gone, no transport or protocol
    /// of theirs is alive.
    @Test func protocolServerFreesEveryConnection() throws {
        let (watched, alive) = try runLoop { loop -> (Int, [String: Int]) in
            let watch = LifetimeWatch()
            loop.setExceptionHandler { _, context in Issue.record("unexpected report: \(context.message)") }
            let server = try await loop.createServer({ WatchedEcho(watch) }, host: "127.0.0.1", port: 0)
            try await churnThenClose(loop, server)
            return (watch.watched, watch.alive)
        }
        #expect(watched == 2 * 200)
        #expect(alive == [:])
    }

    /// The same clients against a streams server whose handler echoes with
    /// `drain`: no reader, writer, transport or handler task stays alive.
    @Test func streamsServerFreesEveryConnection() throws {
        let (watched, alive) = try runLoop { loop -> (Int, [String: Int]) in
            let watch = LifetimeWatch()
            loop.setExceptionHandler { _, context in
                // A client that resets makes its handler's read or drain fail.
                guard context.message == "Unhandled exception in client_connected_cb" else {
                    Issue.record("unexpected report: \(context.message)")
                    return
                }
            }
            let server = try await startStreamEcho(loop) { reader, writer in
                watch.watch("reader", reader)
                watch.watch("writer", writer)
                watch.watch("transport", writer.transport)
                if let task = currentLoopTask() { watch.watch("handler task", task) }
            }
            try await churnThenClose(loop, server)
            return (watch.watched, watch.alive)
        }
        #expect(watched == 4 * 200)
        #expect(alive == [:])
    }

    /// Clients built on `openConnection` and `createConnection` free their
    /// side too once closed.
    @Test func clientConnectionsAreFreed() throws {
        let (watched, alive) = try runLoop { loop -> (Int, [String: Int]) in
            let watch = LifetimeWatch()
            let server = try await loop.createServer({ WatchedEcho(LifetimeWatch()) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            for round in 0..<20 {
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                watch.watch("reader", reader)
                watch.watch("writer", writer)
                watch.watch("transport", writer.transport)
                writer.write(Array("round \(round)\n".utf8))
                #expect(try await reader.readline() == Array("round \(round)\n".utf8))
                writer.close()
                try await writer.waitClosed()

                let (transport, protocolObject) = try await loop.createConnection({ WatchedEcho(watch) }, host: "127.0.0.1", port: port)
                _ = protocolObject
                transport.close()
            }
            server.close()
            try await server.waitClosed()
            try await settle(loop)
            return (watch.watched, watch.alive)
        }
        #expect(watched == 20 * 5)
        #expect(alive == [:])
    }

    /// `closeClients` closes each accepted connection once its buffered
    /// echo has gone, so a client that never reads keeps the server from
    /// closing; `abortClients` drops it, and `waitClosed` returns.
    @Test func serverClosesAndAbortsItsClients() throws {
        try runLoop { loop in
            var accepted: [WatchedEcho] = []
            let server = try await loop.createServer({
                let echo = WatchedEcho(LifetimeWatch())
                accepted.append(echo)
                return echo
            }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            writer.write(Array("reading\n".utf8))
            #expect(try await reader.readline() == Array("reading\n".utf8))
            // This client never reads: the server's echo backs up.
            let (_, flooder) = try await loop.openConnection(host: "127.0.0.1", port: port)
            for _ in 0..<512 { flooder.write([UInt8](repeating: 7, count: 64 * 1024)) }
            while accepted.count < 2 || accepted[1].transportBuffered == 0 { try await sleep(0.001) }

            server.close()
            server.closeClients()
            #expect(try await reader.read() == [])  // the server closed the reading client
            await #expect(throws: TimeoutError.self) { try await waitFor(timeout: 0.2) { try await server.waitClosed() } }
            server.abortClients()
            try await server.waitClosed()
            flooder.transport.abort()
            try? await flooder.waitClosed()
        }
    }

    /// A handler that keeps each connection's writer in state its own
    /// closure captures (a list of clients, say) makes no cycle through the
    /// protocol: once the server is closed and dropped, and the loop
    /// closed, nothing is left.
    @Test func handlerKeepingItsWritersLeavesNothingBehind() throws {
        let watch = LoopWatch()
        do {
            let loop = EventLoop()
            watch.loop = loop
            try loop.runUntilComplete {
                final class Clients { var writers: [StreamWriter] = [] }
                let clients = Clients()
                let server = try await loop.startServer({ reader, writer in
                    clients.writers.append(writer)
                    while true {
                        let data = try await reader.read(1024)
                        if data.isEmpty { break }
                        writer.write(data)
                    }
                    writer.close()
                }, host: "127.0.0.1", port: 0)
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
                writer.write(Array("kept\n".utf8))
                _ = try await reader.readline()
                writer.close()
                server.close()
                try await server.waitClosed()
                watch.objects = clients.writers.map { .init(object: $0) } + [.init(object: server)]
            }
            try loop.close()
        }
        #expect(watch.objects.count == 2)
        #expect(watch.objects.allSatisfy { $0.object == nil })
        #expect(watch.loop == nil)
    }

    /// A loop closed while connections are still up ends them: each
    /// protocol gets `connectionLost`, the server stops listening, and
    /// nothing of theirs, nor the loop, stays allocated.
    @Test func closingTheLoopEndsOpenConnections() throws {
        let watch = LoopWatch()
        let port = Locked(0)
        do {
            let loop = EventLoop()
            watch.loop = loop
            let lost = Locked(0)
            try loop.runUntilComplete {
                let server = try await loop.createServer({ CountingLoss(lost) }, host: "127.0.0.1", port: 0)
                port.withLock { $0 = server.addresses[0].port }
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
                writer.write(Array("still here\n".utf8))
                _ = try await reader.readline()
                watch.objects = [.init(object: reader), .init(object: writer), .init(object: writer.transport)]
            }
            try loop.close()
            #expect(lost.withLock { $0 } == 1)
        }
        #expect(watch.loop == nil)
        #expect(watch.objects.allSatisfy { $0.object == nil })
        #expect(connectToLoopback(port: port.withLock { $0 }).errno == ECONNREFUSED)
    }
}

/// Weak references that outlive the loop they watch.
final class LoopWatch: @unchecked Sendable {  // used by one test thread at a time
    struct Entry { weak var object: AnyObject? }
    weak var loop: EventLoop?
    var objects: [Entry] = []
}

/// Echoes, and counts the connections it saw end.
@LoopActor
final class CountingLoss: StreamingProtocol {
    private let lost: Locked<Int>
    private var transport: (any Transport)?
    init(_ lost: Locked<Int>) { self.lost = lost }
    func connectionMade(_ transport: any Transport) { self.transport = transport }
    func dataReceived(_ data: [UInt8]) { transport?.write(data) }
    func connectionLost(_ error: (any Error)?) { lost.withLock { $0 += 1 } }
}
