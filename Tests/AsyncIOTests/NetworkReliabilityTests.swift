import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Raises this process's descriptor limit to its hard maximum.
func raiseDescriptorLimit() {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
}

/// A stream echo server that reads, writes back and drains, so it stops
/// reading while its peer does not read.
@LoopActor
func startStreamEcho(_ loop: EventLoop, backlog: Int = 100,
                     onConnection: @escaping @LoopActor (StreamReader, StreamWriter) -> Void = { _, _ in }) async throws -> Server {
    try await loop.startServer({ reader, writer in
        onConnection(reader, writer)
        try await echoUntilEnd(reader, writer)
    }, host: "127.0.0.1", port: 0, backlog: backlog)
}

/// Echoes until the client's end of stream, then closes.
@LoopActor
func echoUntilEnd(_ reader: StreamReader, _ writer: StreamWriter) async throws {
    while true {
        let data = try await reader.read(64 * 1024)
        if data.isEmpty { break }
        writer.write(data)
        try await writer.drain()
    }
    writer.close()
}

/// Whether two byte arrays are equal, compared with memcmp.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count == b.count && (a.isEmpty || a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } })
}

/// `count` bytes from `offset` on of an endless stream that never repeats:
/// its 8-byte word k is SplitMix's output for seed k, so any window of it
/// can be made on its own, and a lost, repeated or misplaced piece of it
/// shows wherever it is.
func streamBytes(at offset: Int, count: Int) -> [UInt8] {
    let firstWord = offset / 8
    let words = (firstWord..<(offset + count + 7) / 8).map { k in
        var generator = SplitMix(seed: UInt64(k))
        return generator.next().littleEndian
    }
    return words.withUnsafeBytes { Array($0[(offset - firstWord * 8)..<(offset - firstWord * 8 + count)]) }
}

/// The bytes a stream reader holds unread. The runtime keeps that count
/// private, so it is read by reflection; nil if the reader's stored
/// properties no longer are `buffer` and `start`.
@LoopActor
func unreadBytes(_ reader: StreamReader) -> Int? {
    let mirror = Mirror(reflecting: reader)
    guard let buffer = mirror.descendant("buffer") as? [UInt8], let start = mirror.descendant("start") as? Int else {
        return nil
    }
    return buffer.count - start
}

@Suite(.serialized, .suiteLimit) struct NetworkReliabilityTests {
    /// 1,000 clients at once, each making 100 round trips of random sizes
    /// up to 64 KiB: every byte comes back intact, no connection is lost.
    @Test func thousandClientsHundredRoundTripsEach() throws {
        raiseDescriptorLimit()
        let (completed, corrupted) = try runLoop { loop -> (Int, Int) in
            // A backlog that holds every client connecting at once.
            let server = try await startStreamEcho(loop, backlog: 1024)
            let port = server.addresses[0].port
            var completed = 0, corrupted = 0
            // Messages are slices of a random pattern, compared with memcmp:
            // building and checking them byte by byte took minutes unoptimized.
            var patternSource = SplitMix(seed: 99)
            let pattern = (0..<(128 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: patternSource.next()) { Array($0) } }
            let clients = (0..<1000).map { client in
                loop.createTask {
                    var random = SplitMix(seed: UInt64(client) + 1)
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                    for _ in 0..<100 {
                        let size = Int(random.next() % (64 * 1024)) + 1
                        let offset = Int(random.next() % (64 * 1024))
                        let message = Array(pattern[offset..<offset + size])
                        writer.write(message)
                        try await writer.drain()
                        let echoed = try await reader.readexactly(size)
                        if !sameBytes(echoed, message) { corrupted += 1 }
                    }
                    writer.close()
                    completed += 1
                }
            }
            _ = try await gather(clients)
            server.close()
            try await server.waitClosed()
            return (completed, corrupted)
        }
        #expect(completed == 1000)
        #expect(corrupted == 0)
    }

    /// A client sends 100 MB and does not read: the server stops reading
    /// (its writer is over the high-water mark and its reader full), the
    /// bytes held in user space stay bounded, and everything arrives, in
    /// order and exactly once, once the client reads.
    @Test func slowReaderPausesTheServerAndLosesNothing() throws {
        let total = 100 * 1024 * 1024
        let chunkSize = 64 * 1024
        let (serverPaused, held, sentAtStall, received, firstWrongOffset) = try runLoop { loop in
            var serverSide: (reader: StreamReader, writer: StreamWriter)?
            let server = try await startStreamEcho(loop) { serverSide = ($0, $1) }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            var sent = 0
            let sender = loop.createTask {
                while sent < total {
                    writer.write(streamBytes(at: sent, count: chunkSize))
                    sent += chunkSize
                    try await writer.drain()
                }
                writer.writeEof()
            }
            // Wait for the flow to stall: the sender makes no progress and
            // the server has stopped reading.
            var lastSent = -1
            var serverPaused = false
            for _ in 0..<2000 {
                try await sleep(0.005)
                serverPaused = serverSide.map { !$0.writer.transport.isReading } ?? false
                if serverPaused, sent == lastSent { break }
                lastSent = sent
            }
            // What each side holds in user space: the kernel's socket
            // buffers hold the rest of what was sent.
            let held = [
                "server reader": serverSide.flatMap { unreadBytes($0.reader) } ?? -1,
                "server writer": serverSide?.writer.transport.writeBufferSize ?? -1,
                "client writer": writer.transport.writeBufferSize,
            ]
            let sentAtStall = sent
            // Now read everything back and compare it with what was sent.
            var received = 0
            var firstWrongOffset: Int?
            while true {
                let data = try await reader.read(256 * 1024)
                if data.isEmpty { break }
                if firstWrongOffset == nil, !sameBytes(data, streamBytes(at: received, count: data.count)) {
                    firstWrongOffset = received
                }
                received += data.count
            }
            try await sender.value
            writer.close()
            server.close()
            try await server.waitClosed()
            return (serverPaused, held, sentAtStall, received, firstWrongOffset)
        }
        #expect(serverPaused)
        #expect(sentAtStall < total)
        // The reader pauses its transport past twice its limit (64 KiB), one
        // 256 KiB receive beyond at most; a writer holds at most its
        // high-water mark (64 KiB) plus the one write that crossed it.
        let limit = 64 * 1024  // StreamReader.defaultLimit
        #expect((0...(2 * limit + 256 * 1024)).contains(held["server reader"]!))
        #expect((0...(64 * 1024 + 64 * 1024)).contains(held["server writer"]!))
        #expect((0...(64 * 1024 + chunkSize)).contains(held["client writer"]!))
        #expect(received == total)
        #expect(firstWrongOffset == nil)
    }

    /// A connection reset in mid-transfer reaches `connectionLost` as an
    /// error, and the server goes on serving others.
    @Test func abruptResetReachesConnectionLostAndTheServerKeepsServing() throws {
        let (lostWith, otherReply) = try runLoop { loop -> (Int32?, String) in
            let lost = Future<Int32?>(loop: loop)
            let server = try await loop.createServer({ ResetWatcher(lost: lost) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            // A raw client that sends, then resets (SO_LINGER 0 + close).
            let fd = try Socket.open(family: AF_INET)
            try await loop.sockConnect(fd, server.addresses[0])
            try await loop.sockSendall(fd, Array(repeating: 42, count: 100_000))
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(fd)
            let errno = try await lost.value
            // Another client is still served.
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            writer.write(Array("still here\n".utf8))
            let reply = try await reader.readline()
            writer.close()
            server.close()
            return (errno, String(decoding: reply, as: UTF8.self))
        }
        #expect(lostWith == ECONNRESET)
        #expect(otherReply == "still here\n")
    }

    /// Half-close from the server's side: it says goodbye and shuts its
    /// sending side; the client keeps its transport open and can still send.
    @Test func serverHalfClosesAndStillReceives() throws {
        let (greeting, afterEof) = try runLoop { loop -> (String, String) in
            let received = Future<String>(loop: loop)
            let server = try await loop.startServer({ reader, writer in
                writer.write(Array("bye for now\n".utf8))
                writer.writeEof()
                let rest = try await reader.read()
                writer.transport.close()
                try received.setResult(String(decoding: rest, as: UTF8.self))
            }, host: "127.0.0.1", port: 0)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            let greeting = try await reader.read()  // up to EOF
            #expect(reader.atEof)
            writer.write(Array("sent after your EOF".utf8))
            writer.writeEof()
            let afterEof = try await received.value
            writer.close()
            try await writer.waitClosed()
            server.close()
            return (String(decoding: greeting, as: UTF8.self), afterEof)
        }
        #expect(greeting == "bye for now\n")
        #expect(afterEof == "sent after your EOF")
    }
}

/// Echoes, and records the errno the first lost connection reports.
@LoopActor
final class ResetWatcher: StreamingProtocol {
    let lost: Future<Int32?>
    var transport: (any Transport)?
    init(lost: Future<Int32?>) { self.lost = lost }
    func connectionMade(_ transport: any Transport) { self.transport = transport }
    func dataReceived(_ data: [UInt8]) { transport?.write(data) }
    func connectionLost(_ error: (any Error)?) {
        if !lost.isDone { try? lost.setResult((error as? OSError)?.errno) }
    }
}
