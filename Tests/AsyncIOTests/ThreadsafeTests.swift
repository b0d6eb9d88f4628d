import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct ThreadsafeTests {
    @Test func eightThreadsOfTenThousandCallsLoseNone() throws {
        let threads = 8, perThread = 10_000
        let loop = EventLoop()
        defer { try? loop.close() }
        let received = try loop.runUntilComplete { () -> [Int] in
            let tally = Tally(senders: threads, expected: threads * perThread, loop: loop)
            for sender in 0..<threads {
                spawnThread {
                    for i in 0..<perThread {
                        loop.callSoonThreadsafe { try tally.record(sender: sender, index: i) }
                    }
                }
            }
            try await tally.done.value
            #expect(tally.inOrder)
            return tally.perSender
        }
        #expect(received == [Int](repeating: perThread, count: threads))
    }

    @Test func callSoonThreadsafeWakesASleepingLoop() throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        let value = try loop.runUntilComplete { () -> Int in
            let future = Future<Int>(loop: loop)
            spawnThread {
                usleep(20_000)  // let the loop block in epoll with no timer
                loop.callSoonThreadsafe { try future.setResult(42) }
            }
            return try await future.value
        }
        #expect(value == 42)
    }
}

/// Counts calls per sending thread and checks each thread's calls arrive
/// in the order it made them.
@LoopActor
final class Tally {
    private(set) var perSender: [Int]
    private(set) var inOrder = true
    private var lastSeen: [Int]
    private var total = 0
    private let expected: Int
    let done: Future<Void>

    init(senders: Int, expected: Int, loop: EventLoop) {
        perSender = Array(repeating: 0, count: senders)
        lastSeen = Array(repeating: -1, count: senders)
        self.expected = expected
        done = Future(loop: loop)
    }

    func record(sender: Int, index: Int) throws {
        if lastSeen[sender] != index - 1 { inOrder = false }
        lastSeen[sender] = index
        perSender[sender] += 1
        total += 1
        if total == expected { try done.setResult(()) }
    }
}

/// Starts a detached POSIX thread running `body`.
func spawnThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        box.body()
        return nil
    }, box)
    precondition(status == 0)
    pthread_detach(thread)
}
