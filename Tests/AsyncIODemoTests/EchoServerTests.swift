import Foundation
import Testing
import TestSupport

/// `asyncio-demo echo-server … --serve` and `--connect`, as separate
/// processes talking over loopback.
@Suite(.serialized, .suiteLimit) struct EchoServerTests {
    @Test(arguments: ["protocol", "streams"])
    func serveUntilSIGTERMAndConnect(_ style: String) throws {
        let (server, port) = try startServer(style)
        let client = try Demo.run(["echo-server", style, "--connect", "127.0.0.1:\(port)", "ping ", "pong"])
        #expect(client.status == 0)
        // TCP may split the bytes differently each run: compare them joined.
        #expect(normalise(client.stdout).contains("received b'ping pong'"))
        #expect(client.stdout.hasSuffix("main: closing event loop\n"))

        server.signal(SIGTERM)
        #expect(server.wait(timeout: 30) == .exited(0))
        let output = String(decoding: server.stdout, as: UTF8.self)
        #expect(normalise(output).contains("received b'ping pong'"))
        #expect(output.hasSuffix("main: closing server\nmain: closing event loop\n"))
    }

    /// Ctrl-C stops a server whose clients are still connected, one idle and
    /// one that does not read its echo: the live connections are closed,
    /// each says `closing`, and the process exits 0 at once. A second
    /// signal during the shutdown changes nothing but the wait.
    @Test(arguments: [("protocol", 1), ("streams", 1), ("protocol", 2), ("streams", 2)])
    func sigintClosesLiveConnectionsAndExits(_ style: String, _ signals: Int) throws {
        let (server, port) = try startServer(style)
        let idle = try LoopbackClient(port: port)
        try idle.roundTrip(Array("idle\n".utf8))
        let unread = try LoopbackClient(port: port)
        try unread.roundTrip(Array("unread\n".utf8))
        unread.floodWithoutReading()

        for _ in 0..<signals { server.signal(SIGINT) }
        #expect(server.wait(timeout: 10) == .exited(0))
        let lines = String(decoding: server.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.last == "main: closing event loop")
        let afterClose = try #require(lines.firstIndex(of: "main: closing server").map { lines[($0 + 1)...] })
        let closings = afterClose.filter { $0.hasSuffix(": closing") }
        let prefix = style == "protocol" ? "EchoServer_127.0.0.1_" : "echo_127.0.0.1_"
        #expect(Set(closings) == ["\(prefix)\(idle.localPort): closing", "\(prefix)\(unread.localPort): closing"])
        #expect(closings.count == 2)
        #expect(server.stderr.isEmpty)
    }

    /// A server whose standard output goes away keeps serving (writes fail
    /// with EPIPE instead of killing it), and still exits 0 on SIGTERM.
    @Test func closedStandardOutputDoesNotKillTheServer() throws {
        let (server, port) = try startServer("protocol")
        server.closeStandardOutput()
        for round in 0..<3 {
            let client = try LoopbackClient(port: port)
            try client.roundTrip(Array("round \(round)\n".utf8))
        }
        server.signal(SIGTERM)
        #expect(server.wait(timeout: 30) == .exited(0))
    }

    /// With `--quiet`, clients that reset without reading their echo leave
    /// no trace in either output: for an echo server that is a normal end.
    @Test(arguments: ["protocol", "streams"])
    func quietServerIsSilentAboutResets(_ style: String) throws {
        let (server, port) = try startServer(style, quiet: true)
        for _ in 0..<20 {
            let client = try LoopbackClient(port: port)
            client.floodWithoutReading(limit: 256 * 1024)
            client.reset()
        }
        // The server still echoes after all the resets.
        try LoopbackClient(port: port).roundTrip(Array("last\n".utf8))
        server.signal(SIGTERM)
        #expect(server.wait(timeout: 30) == .exited(0))
        #expect(String(decoding: server.stdout, as: UTF8.self)
            == "asyncio: Using selector: EpollSelector\n"
            + "main: starting up on 127.0.0.1 port \(port)\nmain: closing server\nmain: closing event loop\n")
        #expect(String(decoding: server.stderr, as: UTF8.self) == "")
    }

    /// Messages that are not UTF-8 go out byte for byte, as given.
    @Test func messagesAreSentAsTheirBytes() throws {
        let (server, port) = try startServer("protocol")
        let client = try ChildProcess(Demo.binary, rawArguments: [
            Array("echo-server".utf8), Array("protocol".utf8), Array("--connect".utf8), Array("127.0.0.1:\(port)".utf8),
            [0xff, 0xfe], [0x6f, 0x6b, 0x80],
        ])
        #expect(client.wait(timeout: 30) == .exited(0))
        let output = String(decoding: client.stdout, as: UTF8.self)
        #expect(output.contains("EchoClient: sending b'\\xff\\xfe'\nEchoClient: sending b'ok\\x80'\n"))
        #expect(normalise(output).contains("received b'\\xff\\xfeok\\x80'"))
        server.signal(SIGTERM)
        #expect(server.wait(timeout: 30) == .exited(0))
    }

    @Test func portInUseIsAOneLineErrorWithStatus1() throws {
        let (first, port) = try startServer("protocol")
        defer { first.signal(SIGTERM) }
        let second = try Demo.run(["echo-server", "protocol", "--serve", "--host", "127.0.0.1", "--port", "\(port)"])
        #expect(second.status == 1)
        #expect(second.stderr == "asyncio-demo: cannot listen on 127.0.0.1 port \(port): [Errno 98] Address already in use\n")
    }

    @Test func refusedConnectionIsAOneLineErrorWithStatus1() throws {
        let run = try Demo.run(["echo-server", "streams", "--connect", "127.0.0.1:1"])
        #expect(run.status == 1)
        #expect(run.stderr == "asyncio-demo: cannot connect to 127.0.0.1 port 1: [Errno 111] Connection refused\n")
    }

    @Test(arguments: [
        (["--port", "-1"], "--port must be between 0 and 65535"),
        (["--port=-1"], "--port must be between 0 and 65535"),
        (["--port", "http"], "The value 'http' is invalid for '--port <port>'"),
        (["--bogus"], "Unknown option '--bogus'"),
    ])
    func badArgumentsAreOneLineWithStatus64(_ arguments: [String], _ message: String) throws {
        let run = try Demo.run(["echo-server", "protocol", "--serve"] + arguments)
        #expect(run.status == 64)
        #expect(run.stdout == "")
        #expect(run.stderr == "asyncio-demo: \(message)\n")
    }

    /// Starts `echo-server <style> --serve` on a free port and returns it
    /// with the port it chose.
    private func startServer(_ style: String, quiet: Bool = false) throws -> (ChildProcess, Int) {
        let server = try Demo.start(["echo-server", style, "--serve", "--host", "127.0.0.1", "--port", "0"]
            + (quiet ? ["--quiet"] : []))
        return (server, try server.readStartupPort(host: "127.0.0.1"))
    }
}

/// A plain blocking client socket on loopback.
final class LoopbackClient {
    let fd: Int32

    init(port: Int) throws {
        let (fd, error) = connectToLoopback(port: port)
        guard fd >= 0 else { throw SpawnError(message: "connect: errno \(error)") }
        self.fd = fd
    }

    deinit { close(fd) }

    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Sends `message` and reads until the same bytes have come back.
    func roundTrip(_ message: [UInt8]) throws {
        guard send(fd, message, message.count, Int32(MSG_NOSIGNAL)) == message.count else {
            throw SpawnError(message: "send: errno \(errno)")
        }
        var echoed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while echoed.count < message.count {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw SpawnError(message: "echo ended after \(echoed.count) bytes") }
            echoed += buffer[..<count]
        }
        #expect(echoed == message)
    }

    /// Sends, without blocking and without reading, until the socket is
    /// full or `limit` bytes have gone: the server's echo backs up.
    func floodWithoutReading(limit: Int = 64 * 1024 * 1024) {
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        var sent = 0
        while sent < limit {
            let count = send(fd, chunk, min(chunk.count, limit - sent), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if count <= 0 { break }
            sent += count
        }
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}
