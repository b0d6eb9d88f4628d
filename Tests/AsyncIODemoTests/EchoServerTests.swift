import Foundation
import Testing

/// `asyncio-demo echo-server … --serve` and `--connect`, as separate
/// processes talking over loopback.
@Suite(.serialized) struct EchoServerTests {
    @Test(arguments: ["protocol", "streams"])
    func serveUntilSIGTERMAndConnect(_ style: String) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)

        let server = Process()
        server.executableURL = Demo.binary
        server.arguments = ["echo-server", style, "--serve", "--host", "127.0.0.1", "--port", "0"]
        server.standardOutput = try FileHandle(forWritingTo: outURL)
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        // Wait (up to 10 s) for the server to say which port it chose.
        var port: String?
        for _ in 0..<1000 where port == nil {
            let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("main: starting up on 127.0.0.1 port ") }) {
                port = String(line.split(separator: " ").last!)
            } else {
                usleep(10_000)
            }
        }
        let chosen = try #require(port)

        let client = try Demo.run(["echo-server", style, "--connect", "127.0.0.1:\(chosen)", "ping ", "pong"])
        #expect(client.status == 0)
        // TCP may split the bytes differently each run: compare them joined.
        #expect(normalise(client.stdout).contains("received b'ping pong'"))

        server.terminate()  // SIGTERM
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        let output = try String(contentsOf: outURL, encoding: .utf8)
        #expect(normalise(output).contains("received b'ping pong'"))
        #expect(output.hasSuffix("main: closing server\nmain: closing event loop\n"))
    }

    @Test func portInUseIsAOneLineErrorWithStatus1() throws {
        let first = Process()
        first.executableURL = Demo.binary
        first.arguments = ["echo-server", "protocol", "--serve", "--host", "127.0.0.1", "--port", "0"]
        let pipe = Pipe()
        first.standardOutput = pipe
        try first.run()
        defer { first.terminate(); first.waitUntilExit() }
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(line.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })

        let second = try Demo.run(["echo-server", "protocol", "--serve", "--host", "127.0.0.1", "--port", port])
        #expect(second.status == 1)
        #expect(second.stderr == "asyncio-demo: cannot listen on 127.0.0.1 port \(port): [Errno 98] Address already in use\n")
    }

    @Test func refusedConnectionIsAOneLineErrorWithStatus1() throws {
        let run = try Demo.run(["echo-server", "streams", "--connect", "127.0.0.1:1"])
        #expect(run.status == 1)
        #expect(run.stderr == "asyncio-demo: cannot connect to 127.0.0.1 port 1: [Errno 111] Connection refused\n")
    }
}
