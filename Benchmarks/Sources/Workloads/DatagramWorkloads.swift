import AsyncIO

extension Workloads {
    /// UDP ping-pong on 127.0.0.1 in one loop: an echo endpoint, and a
    /// client connected to it that sends a 64-byte datagram, then the next
    /// as soon as the echo is back, 100,000 times (after 100 warm-up round
    /// trips). Returns round trips per second.
    public static func udpPingPong(count: Int = 100_000) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let (server, _) = try await loop.createDatagramEndpoint({ UDPEcho() }, localAddr: ("127.0.0.1", 0))
            guard let address = server.getExtraInfo("sockname") as? SocketAddress else { fatalError("no sockname") }
            let warmUp = 100
            let pinger = UDPPinger(rounds: warmUp + count, timedFrom: warmUp, loop: loop)
            let (client, _) = try await loop.createDatagramEndpoint({ pinger }, remoteAddr: ("127.0.0.1", address.port))
            let seconds = try await pinger.done.value
            client.close()
            server.close()
            return Double(count) / seconds
        }
    }
}

/// Sends every datagram back where it came from.
@LoopActor
private final class UDPEcho: DatagramProtocol {
    private var transport: (any DatagramTransport)?
    func connectionMade(_ transport: any DatagramTransport) { self.transport = transport }
    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) { try? transport?.sendto(data, addr) }
}

/// Sends the next datagram when the last one's echo arrives; `done` gets
/// the seconds taken by the rounds after the first `timedFrom`.
@LoopActor
private final class UDPPinger: DatagramProtocol {
    let done: Future<Double>
    private let rounds: Int
    private let timedFrom: Int
    private let loop: EventLoop
    private let payload = [UInt8](repeating: 0x78, count: 64)
    private var transport: (any DatagramTransport)?
    private var completed = 0
    private var start = 0.0

    init(rounds: Int, timedFrom: Int, loop: EventLoop) {
        self.rounds = rounds
        self.timedFrom = timedFrom
        self.loop = loop
        done = Future(loop: loop)
    }

    func connectionMade(_ transport: any DatagramTransport) {
        self.transport = transport
        try? transport.sendto(payload)
    }

    func datagramReceived(_ data: [UInt8], _ addr: SocketAddress) {
        completed += 1
        if completed == timedFrom { start = loop.time() }
        if completed == rounds {
            try? done.setResult(loop.time() - start)
        } else {
            try? transport?.sendto(payload)
        }
    }

    func errorReceived(_ error: OSError) { try? done.setException(error) }
}
