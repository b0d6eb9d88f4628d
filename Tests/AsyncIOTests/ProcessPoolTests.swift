import Testing
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
@testable import AsyncIO

/// A pool whose workers are the built `asyncio-demo`, which registers the
/// test functions `square`, `pid`, `length`, `text`, `fail`, `crash`,
/// `touch` and `mark-and-sleep` (Sources/AsyncIODemo/WorkerFunctions.swift): this test
/// binary cannot be a worker itself.
@LoopActor
private func makePool(_ maxWorkers: Int) -> ProcessPoolExecutor {
    ProcessPoolExecutor(maxWorkers: maxWorkers, executable: builtExecutable(named: "asyncio-demo"))
}

/// Real worker processes: results, errors, a worker killed mid-call,
/// reaping and descriptors. Nothing here is timed; a deadline only turns a
/// hang into a failure.
@Suite(.suiteLimit) struct ProcessPoolTests {
    @Test func resultsComeFromOtherProcesses() throws {
        let (squares, pids, started) = try runLoop { loop -> ([Int], [Int32], [Int32]) in
            let pool = makePool(2)
            let squares: [Future<Int>] = try (0..<6).map { try loop.runInExecutor(pool, "square", $0) }
            let pids: [Future<Int32>] = try (0..<6).map { try loop.runInExecutor(pool, "pid", $0) }
            let results = (try await gather(squares), try await gather(pids))
            await pool.shutdown()
            return (results.0, results.1, pool.processIDs)
        }
        #expect(squares == [0, 1, 4, 9, 16, 25])
        #expect(started.count == 2)
        #expect(!started.contains(getpid()))
        #expect(Set(pids).isSubset(of: Set(started)))
    }

    @Test func aTypedRemoteFunctionInfersItsResult() throws {
        let square = RemoteFunction<Int, Int>("square")
        let nine = try runLoop { loop -> Int in
            let pool = makePool(1)
            let nine = try await loop.runInExecutor(pool, square, 3).value
            await pool.shutdown()
            return nine
        }
        #expect(nine == 9)
    }

    @Test func workersStartAsCallsArriveAndAreReused() throws {
        let (pids, started) = try runLoop { loop -> ([Int32], [Int32]) in
            let pool = makePool(4)
            #expect(pool.processIDs.isEmpty)
            var pids: [Int32] = []
            // One call at a time: one idle worker is always there to take it.
            for n in 0..<10 { pids.append(try await loop.runInExecutor(pool, "pid", n).value) }
            await pool.shutdown()
            return (pids, pool.processIDs)
        }
        #expect(started.count == 1)
        #expect(Set(pids) == Set(started))
    }

    @Test func aThousandCallsOverFourWorkersAreAllRight() throws {
        let (squares, started) = try runLoop { loop -> ([Int], [Int32]) in
            let pool = makePool(4)
            let futures: [Future<Int>] = try (0..<1000).map { try loop.runInExecutor(pool, "square", $0) }
            let squares = try await gather(futures)
            await pool.shutdown()
            return (squares, pool.processIDs)
        }
        #expect(squares == (0..<1000).map { $0 * $0 })
        #expect(started.count == 4)
    }

    @Test func bigArgumentsAndResultsArriveWhole() throws {
        let (lengths, texts) = try runLoop { loop -> ([Int], [String]) in
            let pool = makePool(2)
            let sizes = [0, 1, 65_535, 65_536, 1 << 20, 3 << 20]
            let lengths: [Future<Int>] = try sizes.map { try loop.runInExecutor(pool, "length", String(repeating: "é", count: $0)) }
            let texts: [Future<String>] = try sizes.map { try loop.runInExecutor(pool, "text", $0) }
            let results = (try await gather(lengths), try await gather(texts))
            await pool.shutdown()
            return results
        }
        #expect(lengths == [0, 2, 131_070, 131_072, 2 << 20, 6 << 20])
        #expect(texts.map(\.utf8.count) == [0, 1, 65_535, 65_536, 1 << 20, 3 << 20])
        #expect(texts.allSatisfy { $0.utf8.allSatisfy { $0 == UInt8(ascii: "x") } })
    }

    @Test func aFunctionThatThrowsComesBackTypedAndThePoolGoesOn() throws {
        let (error, nine) = try runLoop { loop -> ((any Error)?, Int) in
            let pool = makePool(1)
            let failing: Future<Int> = try loop.runInExecutor(pool, "fail", 7)
            let error = try await gather([failing], returnExceptions: true)[0].failure
            let nine: Int = try await loop.runInExecutor(pool, "square", 3).value
            await pool.shutdown()
            return (error, nine)
        }
        #expect(error as? RemoteError == RemoteError(
            function: "fail", typeName: "AsyncIODemo.WorkerFunctionFailure", message: "refusing 7"))
        #expect("\(error!)" == "AsyncIODemo.WorkerFunctionFailure in fail: refusing 7")
        #expect(nine == 9)
    }

    @Test func anUnknownFunctionIsAClearErrorAndThePoolGoesOn() throws {
        let (error, nine) = try runLoop { loop -> ((any Error)?, Int) in
            let pool = makePool(1)
            let unknown: Future<Int> = try loop.runInExecutor(pool, "nosuch", 1)
            let error = try await gather([unknown], returnExceptions: true)[0].failure
            let nine: Int = try await loop.runInExecutor(pool, "square", 3).value
            await pool.shutdown()
            return (error, nine)
        }
        #expect(error as? ProcessPoolError == .unknownFunction("nosuch"))
        #expect("\(error!)".hasPrefix("no function named 'nosuch' is registered in the worker process"))
        #expect(nine == 9)
    }

    @Test func aWorkerKilledMidCallBreaksThePool() throws {
        let marker = temporaryPath("killed")
        defer {
            // A worker killed between writing and renaming leaves the `.tmp`.
            for path in [marker] + (0..<5).map({ marker + "-\($0)" }) {
                unlink(path)
                unlink(path + ".tmp")
            }
        }
        let (outcomes, later, started) = try runLoop { loop -> ([Result<Int, any Error>], (any Error)?, [Int32]) in
            let pool = makePool(2)
            var calls: [Future<Int>] = [try loop.runInExecutor(pool, "mark-and-sleep", marker)]
            // The other worker sleeps in a call too; the rest wait for a worker.
            calls += try (0..<5).map { try loop.runInExecutor(pool, "mark-and-sleep", marker + "-\($0)") }
            try await yieldUntil { access(marker, F_OK) == 0 }
            kill(try #require(readProcessID(marker)), SIGKILL)
            let outcomes = try await gather(calls, returnExceptions: true)
            let later = Result { try loop.runInExecutor(pool, "square", 1) as Future<Int> }.failure
            await pool.shutdown()
            return (outcomes, later, pool.processIDs)
        }
        #expect(outcomes.count == 6)
        #expect(outcomes.allSatisfy { $0.failure as? BrokenProcessPool != nil })
        #expect(later as? BrokenProcessPool != nil)
        #expect("\(later!)" == "A child process terminated abruptly, the process pool is not usable anymore")
        #expect(started.count == 2)
        #expect(started.allSatisfy { !isChildAlive($0) })
    }

    @Test func aWorkerThatCrashesBreaksThePool() throws {
        let (outcomes, started) = try runLoop { loop -> ([Result<Int, any Error>], [Int32]) in
            let pool = makePool(1)
            var calls: [Future<Int>] = [try loop.runInExecutor(pool, "crash", 0)]
            calls += try (0..<3).map { try loop.runInExecutor(pool, "square", $0) }
            let outcomes = try await gather(calls, returnExceptions: true)
            await pool.shutdown()
            return (outcomes, pool.processIDs)
        }
        #expect(outcomes.allSatisfy { $0.failure as? BrokenProcessPool != nil })
        #expect(started.allSatisfy { !isChildAlive($0) })
    }

    @Test func aWorkerProgramThatCannotStartIsAnErrorAtTheCall() throws {
        let error = try runLoop { loop -> (any Error)? in
            let pool = ProcessPoolExecutor(maxWorkers: 1, executable: "/nonexistent/worker")
            return Result { try loop.runInExecutor(pool, "square", 1) as Future<Int> }.failure
        }
        #expect((error as? OSError)?.errno == ENOENT)
        #expect("\(error!)".contains("/nonexistent/worker"))
    }

    @Test func aWorkerProgramThatIsNoPoolWorkerBreaksThePool() throws {
        // /bin/true ignores the worker argument and exits at once.
        let outcome = try runLoop { loop -> Result<Int, any Error> in
            let pool = ProcessPoolExecutor(maxWorkers: 1, executable: "/bin/true")
            let call: Future<Int> = try loop.runInExecutor(pool, "square", 1)
            let outcome = try await gather([call], returnExceptions: true)[0]
            await pool.shutdown()
            return outcome
        }
        #expect(outcome.failure as? BrokenProcessPool != nil)
    }

    @Test func cancellingACallNotYetSentMeansItNeverRuns() throws {
        let marker = temporaryPath("cancelled")
        defer { unlink(marker) }
        let (first, cancelled, third) = try runLoop { loop -> (Int, Bool, Int) in
            let pool = makePool(1)
            let first: Future<Int> = try loop.runInExecutor(pool, "square", 2)
            let second: Future<Int> = try loop.runInExecutor(pool, "touch", marker)
            let third: Future<Int> = try loop.runInExecutor(pool, "square", 3)
            second.cancel()
            let results = try await gather(first, third)
            await pool.shutdown()
            return (results[0], second.isCancelled, results[1])
        }
        #expect(first == 4 && third == 9 && cancelled)
        // The worker ran the third call after the first: the second was never sent.
        #expect(access(marker, F_OK) != 0)
    }

    @Test func shutdownReapsEveryWorkerAndClosesEveryPipe() throws {
        let (started, pipes, afterShutdown) = try runLoop { loop -> ([Int32], Set<UInt64>, (any Error)?) in
            let pool = makePool(3)
            let calls: [Future<Int32>] = try (0..<30).map { try loop.runInExecutor(pool, "pid", $0) }
            _ = try await gather(calls)
            let pipes = Set(pool.processIDs.flatMap(workerPipeInodes))
            await pool.shutdown()
            let afterShutdown = Result { try loop.runInExecutor(pool, "square", 1) as Future<Int> }.failure
            return (pool.processIDs, pipes, afterShutdown)
        }
        #expect(started.count == 3)
        #expect(pipes.count == 9)
        #expect(started.allSatisfy { !isChildAlive($0) })
        #expect(openPipeInodes().isDisjoint(with: pipes))
        #expect(afterShutdown as? ExecutorShutdownError != nil)
    }

    @Test func shutdownWithCancelFuturesCancelsWhatWasNotSent() throws {
        let (cancelled, first) = try runLoop { loop -> ([Bool], Int) in
            let pool = makePool(1)
            let calls: [Future<Int>] = try (0..<4).map { try loop.runInExecutor(pool, "square", $0 + 2) }
            // Calls go out on the next iteration: one, as the pool has not
            // yet measured how long a call takes.
            try await sleep(0)
            await pool.shutdown(cancelFutures: true)
            return (calls.map(\.isCancelled), try calls[0].result())
        }
        #expect(cancelled == [false, true, true, true])
        #expect(first == 4)
    }

    @Test func closingTheLoopWithThePoolOpenStopsItsWorkers() throws {
        let loop = EventLoop()
        let (started, pipes) = try loop.runUntilComplete { () -> ([Int32], Set<UInt64>) in
            let pool = makePool(2)
            let calls: [Future<Int32>] = try (0..<4).map { try loop.runInExecutor(pool, "pid", $0) }
            _ = try await gather(calls)
            return (pool.processIDs, Set(pool.processIDs.flatMap(workerPipeInodes)))
        }
        try loop.close()
        #expect(openPipeInodes().isDisjoint(with: pipes))
        // Their stdin closed, the workers exit and are reaped in the background.
        var waited = 0
        while started.contains(where: isChildAlive), waited < 10_000 {
            usleep(1_000)
            waited += 1
        }
        #expect(started.count == 2)
        #expect(started.allSatisfy { !isChildAlive($0) })
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// A path in /tmp no other test run uses.
private func temporaryPath(_ name: String) -> String {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return "/tmp/asyncio-pool-test-\(getpid())-\(name)-\(time.tv_sec)\(time.tv_nsec)"
}

/// The process ID a `mark-and-sleep` call wrote.
private func readProcessID(_ path: String) -> Int32? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 32)
    let count = read(fd, &buffer, buffer.count)
    return count > 0 ? Int32(String(decoding: buffer[..<count], as: UTF8.self)) : nil
}

/// The inodes of a worker's pipes (its descriptors 0, 1 and 3), which are
/// the pipes whose other ends the pool holds.
private func workerPipeInodes(_ pid: Int32) -> [UInt64] {
    [0, 1, 3].compactMap { fd in
        var target = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/\(pid)/fd/\(fd)", &target, 255)
        guard length > 0 else { return nil }
        let link = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.hasPrefix("pipe:[") ? UInt64(link.dropFirst(6).dropLast()) : nil
    }
}

/// The wire format's buffer on its own: frames split across reads, frames
/// larger than the buffer, and a length no pool would send.
@Suite struct FrameBufferTests {
    private func frames(_ bodies: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for body in bodies { Frames.appendResponse(to: &bytes, .value, payload: body) }
        return bytes
    }

    /// Feeds `bytes` in pieces of `step` and returns the frames' bodies.
    private func feed(_ bytes: [UInt8], step: Int) -> [[UInt8]] {
        let buffer = FrameBuffer(capacity: 16)
        var out: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let space = buffer.freeSpace(minimum: 1)
            let count = min(step, space.count, bytes.count - offset)
            bytes[offset..<(offset + count)].withUnsafeBytes { space.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            buffer.didRead(count)
            offset += count
            while let frame = buffer.nextFrame() { out.append(Array(frame)) }
        }
        return out
    }

    @Test func framesSplitAnywhereComeOutWhole() {
        let bodies: [[UInt8]] = [[], [1], Array(repeating: 7, count: 100), [2, 3], Array(repeating: 9, count: 5000)]
        let expected = bodies.map { [ResponseStatus.value.rawValue] + $0 }
        for step in [1, 3, 4, 5, 17, 4096, 1 << 20] {
            #expect(feed(frames(bodies), step: step) == expected, "step \(step)")
        }
    }

    @Test func aLengthNoPoolSendsMarksTheStreamCorrupt() {
        let buffer = FrameBuffer()
        let bogus: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0]
        let space = buffer.freeSpace()
        bogus.withUnsafeBytes { space.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: bogus.count) }
        buffer.didRead(bogus.count)
        #expect(buffer.isCorrupt)
        #expect(buffer.nextFrame() == nil)
    }

    @Test func aRequestSplitsIntoNameAndArgument() throws {
        var bytes: [UInt8] = []
        Frames.appendRequest(to: &bytes, function: "square", argument: Array("12".utf8))
        let body = Array(bytes.dropFirst(4))
        let (name, argument) = try #require(body.withUnsafeBytes { body in
            Frames.parseRequest(body).map { ($0.name, Array($0.argument)) }
        })
        #expect(name == "square")
        #expect(argument == Array("12".utf8))
        #expect([UInt8]([9, 0, 0, 0]).withUnsafeBytes { Frames.parseRequest($0) } == nil)
    }
}
