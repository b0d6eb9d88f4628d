import Dispatch
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

private enum Context {
    @TaskLocal static var requestID = 0
}

/// Thread pools behind `runInExecutor` and `toThread`: real threads.
@Suite(.suiteLimit) struct ExecutorTests {
    struct Odd: Error, Equatable { let n: Int }

    @Test func resultsAndErrorsComeBackForEachCall() throws {
        let outcomes = try runLoop { loop -> [String] in
            let pool = ThreadPoolExecutor(maxWorkers: 4)
            defer { pool.shutdown() }
            let futures = try (0..<20).map { n in
                try loop.runInExecutor(pool) { () throws -> Int in
                    if n % 2 == 1 { throw Odd(n: n) }
                    return n * n
                }
            }
            var outcomes: [String] = []
            for future in futures {
                do { outcomes.append("\(try await future.value)") } catch let error as Odd { outcomes.append("odd \(error.n)") }
            }
            return outcomes
        }
        #expect(outcomes == (0..<20).map { $0 % 2 == 1 ? "odd \($0)" : "\($0 * $0)" })
    }

    @Test func aHundredThousandCallsSubmittedAtOnceAllComplete() throws {
        let sum = try runLoop { loop -> Int in
            let futures = try (0..<100_000).map { n in try loop.runInExecutor { n } }
            return try await gather(futures).reduce(0, +)
        }
        #expect(sum == (0..<100_000).reduce(0, +))
    }

    @Test func cancelledQueuedCallsNeverRunAndAreFreed() throws {
        let ran = Atomic<Int>(0)
        let gate = DispatchSemaphore(value: 0)
        let (cancelled, freed) = try runLoop { loop -> (Int, Bool) in
            let pool = ThreadPoolExecutor(maxWorkers: 1)
            defer { pool.shutdown() }
            let blocker = try loop.runInExecutor(pool) { gate.wait() }
            weak var probe: Future<Void>?
            var cancelled = 0
            do {
                let queued = try (0..<10_000).map { _ in
                    try loop.runInExecutor(pool) { _ = ran.wrappingAdd(1, ordering: .relaxed) }
                }
                probe = queued[5_000]
                cancelled = queued.filter { $0.cancel() }.count
            }
            gate.signal()
            try await blocker.value
            // A call behind the cancelled ones: once it has run, so has every
            // call the worker would have taken before it.
            _ = try await loop.runInExecutor(pool) {}.value
            return (cancelled, probe == nil)
        }
        #expect(cancelled == 10_000)
        #expect(ran.load(ordering: .relaxed) == 0)
        #expect(freed)
    }

    @Test func shutdownWithWaitJoinsEveryWorker() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 4, threadNamePrefix: "joincheck")
        try runLoop { loop -> Void in
            let futures = try (0..<8).map { _ in try loop.runInExecutor(pool) { usleep(10_000) } }
            _ = try await gather(futures)
        }
        #expect(threadNames().filter { $0.hasPrefix("joincheck") }.count == 4)
        pool.shutdown(wait: true)
        #expect(threadNames().filter { $0.hasPrefix("joincheck") }.isEmpty)
        #expect(throws: ExecutorShutdownError.self) {
            try runLoop { loop in _ = try loop.runInExecutor(pool) {} }
        }
    }

    @Test func cancellingTheTaskAwaitingARunningCallLeavesTheLoopWorking() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let (wasCancelled, after) = try runLoop { loop -> (Bool, Int) in
            let pool = ThreadPoolExecutor(maxWorkers: 1)
            defer { pool.shutdown() }
            let waiter = loop.createTask { () -> Int in
                try await loop.runInExecutor(pool) { () -> Int in
                    started.signal()
                    release.wait()
                    return 1
                }.value
            }
            try await toThread { started.wait() }
            waiter.cancel()
            var wasCancelled = false
            do { _ = try await waiter.value } catch is CancelledError { wasCancelled = true }
            release.signal()
            // The dropped result arrives; the pool and the loop carry on.
            let after = try await loop.runInExecutor(pool) { 2 }.value
            try await sleep(0.01)
            return (wasCancelled, after)
        }
        #expect(wasCancelled)
        #expect(after == 2)
    }

    @Test func toThreadSeesTheCallersTaskLocals() throws {
        let (seen, thread) = try runLoop { _ -> (Int, String) in
            try await Context.$requestID.withValue(42) {
                try await toThread { (Context.requestID, currentThreadName) }
            }
        }
        #expect(seen == 42)
        #expect(thread.hasPrefix("asyncio_"))
    }

    @Test func theDefaultExecutorIsNamedAndCanBeShutDown() throws {
        let (name, error) = try runLoop { loop -> (String, String) in
            let name = try await loop.runInExecutor { currentThreadName }.value
            await loop.shutdownDefaultExecutor()
            do {
                _ = try loop.runInExecutor { 0 }
                return (name, "accepted")
            } catch {
                return (name, "\(error)")
            }
        }
        #expect(name == "asyncio_0")
        #expect(error == "Executor shutdown has been called")
    }
}

/// The names of this process's threads, as the kernel keeps them (15 bytes).
private func threadNames() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let id = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        guard id.first?.isNumber == true, let file = fopen("/proc/self/task/\(id)/comm", "r") else { continue }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 64)
        if fgets(&buffer, 64, file) != nil {
            names.append(String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }, as: UTF8.self))
        }
    }
    return names
}

@Suite(.suiteLimit) struct ThreadNameTests {
    @Test func aPrefixWhoseCutSplitsACharacterStillNamesTheWorker() throws {
        let name = try runLoop { loop -> String in
            let pool = ThreadPoolExecutor(maxWorkers: 1, threadNamePrefix: "Работник")
            defer { pool.shutdown() }
            return try await loop.runInExecutor(pool) { currentThreadName }.value
        }
        #expect(name == "Работник_0")
    }

    @Test func toThreadOnAShutDownDefaultPoolIsRefused() throws {
        let refused = try runLoop { loop -> Bool in
            let pool = ThreadPoolExecutor(maxWorkers: 1)
            loop.setDefaultExecutor(pool)
            pool.shutdown()
            do {
                _ = try await toThread { 1 }
                return false
            } catch is ExecutorShutdownError {
                return true
            }
        }
        #expect(refused)
    }
}
