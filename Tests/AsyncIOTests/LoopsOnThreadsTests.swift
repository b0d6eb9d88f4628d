import Dispatch
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Several loops on several threads in one process, each with a server,
/// clients, executor work (on its own default executor and on one pool all
/// share) and name lookups, all at once.
@Suite(.suiteLimit) struct LoopsOnThreadsTests {
    @Test func fourLoopsOnFourThreadsServeResolveAndUseExecutors() throws {
        let shared = ThreadPoolExecutor(maxWorkers: 3, threadNamePrefix: "shared")
        defer { shared.shutdown() }
        let failures = Locked<[String]>([])
        let finished = DispatchGroup()
        for index in 0..<4 {
            finished.enter()
            spawnThread {
                defer { finished.leave() }
                do {
                    try runLoop { loop in try await Self.exercise(loop, index: index, shared: shared) }
                } catch {
                    failures.withLock { $0.append("loop \(index): \(error)") }
                }
            }
        }
        // Meanwhile a thread with no loop submits to the shared pool too.
        let outside = DispatchSemaphore(value: 0)
        for n in 0..<200 {
            let item = WorkItem({ if n == 199 { outside.signal() } }, abandoned: {})
            try shared.submit(item)
        }
        outside.wait()
        finished.wait()
        #expect(failures.withLock { $0 } == [])
    }

    @LoopActor
    private static func exercise(_ loop: EventLoop, index: Int, shared: ThreadPoolExecutor) async throws {
        let server = try await startStreamEcho(loop)
        defer { server.close() }
        let port = server.addresses[0].port
        for round in 0..<20 {
            let clients = (0..<3).map { client in
                loop.createTask { () -> Bool in
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                    let message = Array("loop \(index) round \(round) client \(client)\n".utf8)
                    writer.write(message)
                    try await writer.drain()
                    let echoed = try await reader.readexactly(message.count)
                    writer.close()
                    return echoed == message
                }
            }
            let own = try (0..<10).map { n in try loop.runInExecutor { n * n + index } }
            let common = try (0..<10).map { n in try loop.runInExecutor(shared) { n + 1000 * index } }
            let names = try await loop.getaddrinfo("localhost", 443, type: Int32(SOCK_STREAM.rawValue))
            let back = try await loop.getnameinfo(SocketAddress(ip: "127.0.0.1", port: 443)!)
            guard try await gather(clients).allSatisfy({ $0 }) else { throw Mismatch(what: "echo") }
            guard try await gather(own) == (0..<10).map({ $0 * $0 + index }) else { throw Mismatch(what: "own pool") }
            guard try await gather(common) == (0..<10).map({ $0 + 1000 * index }) else { throw Mismatch(what: "shared pool") }
            guard !names.isEmpty, back.service == "https" else { throw Mismatch(what: "lookup") }
        }
    }

    struct Mismatch: Error { let what: String }
}
