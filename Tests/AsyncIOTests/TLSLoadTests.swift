import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Echoes every byte back.
@LoopActor
private final class Echo: StreamingProtocol {
    private var transport: (any Transport)?
    func connectionMade(_ transport: any Transport) { self.transport = transport }
    func dataReceived(_ data: [UInt8]) { transport?.write(data) }
}

/// The seeded generator of LoopTests, so a failing client can be replayed.
extension SplitMix: RandomNumberGenerator {}

/// Random bytes, `count` of them.
private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix(seed: seed)
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let words = count / 8
        UnsafeMutableRawBufferPointer(buffer).withMemoryRebound(to: UInt64.self) { pointer in
            for index in 0..<words { pointer[index] = generator.next() }
        }
        for index in (words * 8)..<count { buffer[index] = UInt8(truncatingIfNeeded: generator.next()) }
        initialized = count
    }
}

/// A size from 1 byte to 64 KiB whose logarithm is uniform.
private func randomSize(using generator: inout SplitMix) -> Int {
    let exponent = Double.random(in: 0...16, using: &generator)
    return min(64 * 1024, max(1, Int(pow(2, exponent))))
}

/// Many connections at once, and much data through one, every byte checked.
@Suite(.serialized, .suiteLimit) struct TLSLoadTests {
    init() { LogCapture.install() }

    /// 1,000 TLS clients connected at once, each making 20 round trips of
    /// a random size from 1 byte to 64 KiB (a random slice of a random pool),
    /// every echo compared byte for byte. Sizes are log-uniform (as many
    /// under 256 bytes as over 16 KiB, each client's first exactly 64 KiB),
    /// so small writes, single records and multi-record messages all get
    /// exercised while the test moves about 120 MB each way, not 650.
    @Test func thousandConcurrentClientsTwentyRoundTripsEach() throws {
        let clients = 1000
        let rounds = 20
        let pair = try TLSPair()
        let pool = randomBytes(256 * 1024, seed: 1)
        let (mismatches, bytes, port) = try runLoop { loop -> (Int, Int, Int) in
            let server = try await loop.createServer({ Echo() }, host: "127.0.0.1", port: 0, backlog: 1024, ssl: pair.server)
            let port = server.addresses[0].port
            let tasks = (0..<clients).map { client in
                loop.createTask { () -> [Int] in
                    var generator = SplitMix(seed: UInt64(client) &+ 1000)
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: pair.client,
                                                                         serverHostname: "localhost")
                    var mismatches = 0
                    var bytes = 0
                    for round in 0..<rounds {
                        let size = round == 0 ? 64 * 1024 : randomSize(using: &generator)
                        let offset = Int.random(in: 0...(pool.count - size), using: &generator)
                        let message = Array(pool[offset..<(offset + size)])
                        writer.write(message)
                        let echoed = try await reader.readexactly(size)
                        if !sameBytes(echoed, message) { mismatches += 1 }
                        bytes += size
                    }
                    writer.close()
                    try await writer.waitClosed()
                    return [mismatches, bytes]
                }
            }
            let results = try await gather(tasks)
            server.close()
            try await server.waitClosed()
            return (results.reduce(0) { $0 + $1[0] }, results.reduce(0) { $0 + $1[1] }, port)
        }
        #expect(mismatches == 0)
        #expect(bytes > clients * rounds)
        #expect(descriptorsUsingPort(port) == 0)
    }

    /// 100 MB each way through one connection. The client writes all of it
    /// before it reads anything, so the server's echoes back up: its writes
    /// pause its handler, the handler stops reading, and the server stops
    /// reading the socket. Meanwhile what the server's transport holds
    /// (plaintext and ciphertext waiting to be sent, ciphertext received and
    /// not decrypted) stays bounded by the water marks, not by 100 MB.
    @Test func hundredMegabytesEachWayWithANonReadingClient() throws {
        let pair = try TLSPair()
        let block = 1024 * 1024
        let blocks = 100
        // Random blocks, each stamped with its index, so a misplaced one shows.
        let base = randomBytes(block, seed: 7)
        var payload = [UInt8]()
        payload.reserveCapacity(block * blocks)
        for index in 0..<blocks {
            payload += withUnsafeBytes(of: UInt64(index).littleEndian) { Array($0) }
            payload += base[8...]
        }
        let (intact, received, sawServerStopReading, mostHeld) = try runLoop { loop -> (Bool, Int, Bool, Int) in
            var serverTransport: TLSAppTransport?
            var mostHeld = 0
            let server = try await loop.startServer({ reader, writer in
                let transport = try #require(writer.transport as? TLSAppTransport)
                serverTransport = transport
                while true {
                    let data = try await reader.read(64 * 1024)
                    if data.isEmpty { break }
                    writer.write(data)
                    mostHeld = max(mostHeld, transport.writeBufferSize + transport.layer.incomingCiphertextSize)
                    try await writer.drain()
                }
                writer.close()
            }, host: "127.0.0.1", port: 0, ssl: pair.server)
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
            // Not reading yet: wait for the server to stop reading.
            try await yieldUntil(timeout: 60) { serverTransport.map { !$0.isReading } ?? false }
            let sawServerStopReading = true
            var received = 0
            var intact = true
            while received < payload.count {
                let chunk = try await reader.read(256 * 1024)
                if chunk.isEmpty { break }
                if intact, !sameBytes(chunk, Array(payload[received..<(received + chunk.count)])) { intact = false }
                received += chunk.count
            }
            try await sender.value
            writer.close()
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return (intact, received, sawServerStopReading, mostHeld)
        }
        #expect(sawServerStopReading)
        #expect(received == block * blocks)
        #expect(intact)
        // The high-water mark (64 KiB) plus one 64 KiB write and its TLS framing,
        // plus one socket read of ciphertext: far from 100 MB.
        #expect(mostHeld < 512 * 1024, "the server held \(mostHeld) bytes")
    }
}
