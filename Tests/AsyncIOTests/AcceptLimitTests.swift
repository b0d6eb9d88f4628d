import Foundation
import Testing
import TestSupport
@testable import AsyncIO

/// Running out of file descriptors while accepting. The scenario lowers the
/// process's descriptor limit, so it runs in a child process of its own:
/// the test re-runs itself there, where an environment variable tells it
/// to play the scenario.
@Suite struct AcceptLimitTests {
    static let childVariable = "ASYNCIO_ACCEPT_LIMIT_CHILD"

    @Test func serverKeepsRunningWhenDescriptorsRunOut() throws {
        if ProcessInfo.processInfo.environment[Self.childVariable] == "1" {
            try outOfDescriptorsScenario()
            return
        }
        let environment = ChildProcess.currentEnvironment().merging([Self.childVariable: "1"]) { $1 }
        let child = try ChildProcess.run(
            CommandLine.arguments[0],
            ["--testing-library", "swift-testing", "--filter", "serverKeepsRunningWhenDescriptorsRunOut"],
            environment: environment)
        let log = child.stdoutText + child.stderrText
        #expect(child.status == 0, "child run:\n\(log)")
        #expect(log.contains("passed"))
    }

    private func outOfDescriptorsScenario() throws {
        let (reports, reply) = try runLoop { loop -> (Int, String) in
            var reports = 0
            let reported = Future<Void>(loop: loop)
            loop.setExceptionHandler { _, context in
                guard context.message == "socket.accept() out of system resource" else { return }
                reports += 1
                if !reported.isDone { try? reported.setResult(()) }
            }
            let server = try await loop.createServer({ EchoServerProtocol(log: Log()) }, host: "127.0.0.1", port: 0)
            let address = server.addresses[0]

            // Lower the limit to just above the highest descriptor in use,
            // then open clients until no descriptor is left: the server has
            // none to accept with.
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            let saved = limit
            limit.rlim_cur = rlim_t(highestDescriptor() + 1 + 4)
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            var clients: [Int32] = []
            while let fd = try? Socket.open(family: AF_INET) {
                _ = try Socket.connect(fd, to: address)
                clients.append(fd)
            }
            #expect(!clients.isEmpty)
            // The server sees the connections and fails to accept them. (No
            // fixed wait: on a loaded machine the handshakes may come late.)
            try await waitFor(reported, timeout: 30)
            let reportsWhileOut = reports

            // Free the descriptors: after its pause the server accepts again,
            // and this client's line is echoed once it does.
            for fd in clients { close(fd) }
            var restored = saved
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &restored)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: address.port)
            writer.write(Array("accepted again\n".utf8))
            let reply = try await reader.readline()
            writer.close()
            server.close()
            // The server's side of the connection ends too before the loop
            // closes, so nothing it held outlives the test.
            try await server.waitClosed()
            #expect(reportsWhileOut == 1)
            return (reports, String(decoding: reply, as: UTF8.self))
        }
        #expect(reports == 1)  // said once, not once per attempt
        #expect(reply == "accepted again\n")
    }

    /// The highest descriptor number this process has open.
    private func highestDescriptor() -> Int32 {
        guard let directory = opendir("/proc/self/fd") else { return 1024 }
        defer { closedir(directory) }
        var highest: Int32 = 0
        while let entry = readdir(directory) {
            // Read the name only up to its NUL: a dirent can be shorter than its type.
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
            if let number = Int32(name) { highest = max(highest, number) }
        }
        return highest
    }
}
