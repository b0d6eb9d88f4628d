import Dispatch
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// Real child processes: exit codes, signals, pipes under load, reaping
/// and descriptors.
@Suite(.suiteLimit) struct SubprocessTests {
    @Test func returnCodesAreTheExitStatusOrMinusTheSignal() throws {
        let codes = try runLoop { _ -> [Int32] in
            var codes: [Int32] = []
            for command in ["exit 0", "exit 1", "exit 255", "kill -KILL $$"] {
                let process = try await createSubprocessShell(command)
                codes.append(try await process.wait())
            }
            return codes
        }
        #expect(codes == [0, 1, 255, -9])
    }

    @Test func terminateAndKillARunningChild() throws {
        let codes = try runLoop { _ -> [Int32?] in
            let terminated = try await createSubprocessExec("/bin/sleep", ["30"])
            #expect(terminated.returncode == nil)
            try terminated.terminate()
            let killed = try await createSubprocessExec("/bin/sleep", ["30"])
            try killed.kill()
            _ = try await (terminated.wait(), killed.wait())
            return [terminated.returncode, killed.returncode]
        }
        #expect(codes == [-SIGTERM, -SIGKILL])
    }

    @Test func waitForTimesOutThenTheChildIsKilled() throws {
        let (timedOut, code) = try runLoop { _ -> (Bool, Int32) in
            let process = try await createSubprocessExec("/bin/sleep", ["30"])
            var timedOut = false
            do {
                _ = try await waitFor(timeout: 0.05) { try await process.wait() }
            } catch is TimeoutError {
                timedOut = true
            }
            try process.kill()
            return (timedOut, try await process.wait())
        }
        #expect(timedOut)
        #expect(code == -9)
    }

    @Test func oneHundredMegabytesThroughCatArriveIntact() throws {
        let chunk = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        let rounds = 100
        let (received, mismatches, code) = try runLoop { _ -> (Int, Int, Int32) in
            let cat = try await createSubprocessExec("/bin/cat", stdin: .pipe, stdout: .pipe)
            let stdin = try #require(cat.stdin)
            let stdout = try #require(cat.stdout)
            let writer = createTask { () -> Void in
                for _ in 0..<rounds {
                    stdin.write(chunk)
                    try await stdin.drain()
                }
                stdin.close()
            }
            var received = 0
            var mismatches = 0
            while true {
                let data = try await stdout.read(1 << 16)
                if data.isEmpty { break }
                mismatches += countMismatches(data, against: chunk, startingAt: received)
                received += data.count
            }
            try await writer.value
            return (received, mismatches, try await cat.wait())
        }
        #expect(received == rounds * chunk.count)
        #expect(mismatches == 0)
        #expect(code == 0)
    }

    @Test func communicateReadsTenMegabytesFromBothPipesAtOnce() throws {
        let (out, err, code) = try runLoop { _ -> (Int?, Int?, Int32?) in
            let process = try await createSubprocessShell(
                "head -c 10000000 /dev/zero; head -c 10000000 /dev/zero >&2; exit 3",
                stdout: .pipe, stderr: .pipe)
            let (out, err) = try await process.communicate()
            return (out?.count, err?.count, process.returncode)
        }
        #expect(out == 10_000_000)
        #expect(err == 10_000_000)
        #expect(code == 3)
    }

    @Test func communicateFeedsStdinAndStderrCanFollowStdout() throws {
        let (out, err) = try runLoop { _ -> (String?, Int?) in
            let process = try await createSubprocessShell(
                "tr a-z A-Z; echo done >&2", stdin: .pipe, stdout: .pipe, stderr: .stdout)
            let (out, err) = try await process.communicate(input: Array("hello, child\n".utf8))
            return (out.map { String(decoding: $0, as: UTF8.self) }, err?.count)
        }
        #expect(out == "HELLO, CHILD\ndone\n")
        #expect(err == nil)
    }

    @Test func aChildThatClosesStdinEarlyIsABrokenPipeNotASignal() throws {
        let (error, code) = try runLoop { _ -> (Int32?, Int32) in
            let process = try await createSubprocessExec("/usr/bin/head", ["-c", "1"], stdin: .pipe, stdout: .devNull)
            let stdin = try #require(process.stdin)
            var error: Int32?
            do {
                for _ in 0..<64 {
                    stdin.write([UInt8](repeating: 0x41, count: 1 << 20))
                    try await stdin.drain()
                }
            } catch let failure as OSError {
                error = failure.errno
            }
            return (error, try await process.wait())
        }
        #expect(error == EPIPE)
        #expect(code == 0)
    }

    @Test func aChildGetsOnlyItsStandardDescriptors() throws {
        let listing = try runLoop { _ -> String in
            let process = try await createSubprocessExec("/bin/ls", ["-l", "/proc/self/fd"], stdout: .pipe)
            let (out, _) = try await process.communicate()
            return String(decoding: out ?? [], as: UTF8.self)
        }
        // ls has one more descriptor of its own: the directory it lists.
        let descriptors = listing.split(separator: "\n").compactMap { line -> String? in
            guard let arrow = line.range(of: " -> ") else { return nil }
            let name = line[..<arrow.lowerBound].split(separator: " ").last.map(String.init)
            return line[arrow.upperBound...].hasSuffix("/fd") ? nil : name
        }
        #expect(descriptors.sorted() == ["0", "1", "2"], "\(listing)")
    }

    @Test func aThousandChildrenAreAllReapedAndTheirPipesClosed() throws {
        let (pids, spawnedPipes) = try runLoop { loop -> ([Int32], Set<UInt64>) in
            var pids: [Int32] = []
            var inodes = Set<UInt64>()
            for _ in 0..<10 {
                var batch: [LoopTask<Int32>] = []
                for _ in 0..<100 {
                    // cat runs until its stdin closes, so all three pipes are open here.
                    let process = try await createSubprocessExec("/bin/cat", stdin: .pipe, stdout: .pipe, stderr: .pipe)
                    pids.append(process.pid)
                    inodes.formUnion(pipeInodes(of: process))
                    process.stdin?.close()
                    batch.append(loop.createTask { try await process.wait() })
                }
                let codes = try await gather(batch)
                #expect(codes.allSatisfy { $0 == 0 })
            }
            return (pids, inodes)
        }
        #expect(pids.count == 1000)
        #expect(pids.filter(isZombieChild).isEmpty)
        #expect(spawnedPipes.count == 3000)
        #expect(openPipeInodes().intersection(spawnedPipes).isEmpty)
    }

    @Test func aProcessDroppedWithoutWaitIsStillReaped() throws {
        let pid = try runLoop { loop -> Int32 in
            let pid = try await createSubprocessExec("/bin/true").pid
            // Run the loop until the child has ended and been reaped.
            for _ in 0..<2000 where childIsWatched(pid, by: loop) { try await sleep(0.005) }
            return pid
        }
        #expect(!isZombieChild(pid))
    }

    @Test func loopsOnTwoThreadsSpawnAtOnce() throws {
        let results = Locked<[Int32]>([])
        let finished = DispatchGroup()
        for index in 0..<2 {
            finished.enter()
            spawnThread {
                defer { finished.leave() }
                let codes = try? runLoop { _ -> [Int32] in
                    var codes: [Int32] = []
                    for round in 0..<50 {
                        let process = try await createSubprocessShell("exit \((index * 50 + round) % 7)")
                        codes.append(try await process.wait())
                    }
                    return codes
                }
                results.withLock { $0 += codes ?? [-1] }
            }
        }
        finished.wait()
        let expected = (0..<100).map { Int32($0 % 7) }
        #expect(results.withLock { $0.sorted() } == expected.sorted())
    }

    @Test func aProgramThatCannotStartIsATypedErrorNamingIt() throws {
        var template = Array("/tmp/asyncio-not-executable-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        close(fd)
        let notExecutable = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(notExecutable) }
        chmod(notExecutable, 0o644)
        let errors = try runLoop { _ -> [String] in
            var errors: [String] = []
            for (program, directory) in [("/nonexistent/program", nil), (notExecutable, nil),
                                         ("nosuchprogram-asyncio", nil), ("/bin/true", "/nonexistent-dir")] {
                do {
                    _ = try await createSubprocessExec(program, currentDirectory: directory)
                    errors.append("started")
                } catch let error as OSError {
                    errors.append("\(error)")
                }
            }
            return errors
        }
        #expect(errors == [
            "[Errno 2] No such file or directory: '/nonexistent/program'",
            "[Errno 13] Permission denied: '\(notExecutable)'",
            "[Errno 2] No such file or directory: 'nosuchprogram-asyncio'",
            "[Errno 2] No such file or directory: '/nonexistent-dir'",
        ])
    }

    @Test func theProtocolSeesEveryPipeCloseBeforeTheExit() throws {
        let events = try runLoop { loop -> [String] in
            let (transport, recorder) = try await loop.subprocessShell(
                { EventRecorder(loop: loop) }, command: "echo out; echo err >&2")
            let code = try await transport.wait()
            try await recorder.done.value
            return recorder.events + ["wait \(code)"]
        }
        let lost = events.filter { $0.hasPrefix("pipe lost") }
        #expect(events.first == "made")
        #expect(Set(lost) == ["pipe lost 0", "pipe lost 1", "pipe lost 2"])
        #expect(Array(events.suffix(3)) == ["exited 0", "connection lost", "wait 0"])
        #expect(events.contains("data 1 out\n"))
        #expect(events.contains("data 2 err\n"))
    }

    @Test func withoutPidfdsAThreadWaitsForEachChild() throws {
        let (codes, watched) = try runLoop { loop -> ([Int32], Int) in
            loop.childWatcher.usesPidfds = false
            var codes: [Int32] = []
            for command in ["exit 0", "exit 7", "kill -TERM $$"] {
                let process = try await createSubprocessShell(command, stdout: .pipe)
                let (out, _) = try await process.communicate()
                #expect(out == [])
                codes.append(process.returncode ?? 99)
            }
            return (codes, loop.childWatcher.children.count)
        }
        #expect(codes == [0, 7, -SIGTERM])
        #expect(watched == 0)
    }

    @Test func aChildStartsWithNoSignalBlockedOrIgnored() throws {
        let status = try runLoop { _ -> String in
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGUSR2)
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            defer { pthread_sigmask(SIG_UNBLOCK, &blocked, nil) }
            // SIGURG's default action is to be ignored, so ignoring it here
            // changes nothing for other tests, but a child must not inherit it.
            let previous = signal(SIGURG, SIG_IGN)
            defer { signal(SIGURG, previous) }
            let process = try await createSubprocessExec("/bin/cat", ["/proc/self/status"], stdout: .pipe)
            let (out, _) = try await process.communicate()
            return String(decoding: out ?? [], as: UTF8.self)
        }
        // Signals 32 and 33 are glibc's own, which no program can set; the
        // mask's bit n - 1 is signal n.
        let glibcReserved: UInt64 = 1 << 31 | 1 << 32
        let masks = ["SigBlk:", "SigIgn:"].map { name in
            status.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { UInt64($0.dropFirst(name.count).trimmingPrefix("\t"), radix: 16) }
                .map { $0 & ~glibcReserved }
        }
        #expect(masks == [0, 0], "\(status)")
    }

    @Test func theChildGetsTheEnvironmentAndDirectoryAskedFor() throws {
        let (given, inherited) = try runLoop { _ -> (String, String) in
            let given = try await createSubprocessShell(
                "echo \"$GREETING|$HOME|$(pwd)\"", stdout: .pipe,
                environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], currentDirectory: "/tmp")
            let inherited = try await createSubprocessShell("echo \"$HOME\"", stdout: .pipe)
            return (String(decoding: try await given.communicate().stdout ?? [], as: UTF8.self),
                    String(decoding: try await inherited.communicate().stdout ?? [], as: UTF8.self))
        }
        #expect(given == "hello||/tmp\n")
        #expect(inherited == "\(getenv("HOME").map { String(cString: $0) } ?? "")\n")
    }

    @Test func stdoutCannotBeUsedForStdout() throws {
        let message = try runLoop { _ -> String in
            do {
                _ = try await createSubprocessExec("/bin/true", stdout: .stdout)
                return "started"
            } catch {
                return "\(error)"
            }
        }
        #expect(message == ".stdout can only be used for stderr")
    }

    @Test func closingTheLoopWithAChildRunningLeavesItRunningAndReapsIt() throws {
        let loop = EventLoop()
        let pid = try loop.runUntilComplete { try await createSubprocessExec("/bin/sleep", ["0.2"]).pid }
        try loop.close()
        #expect(kill(pid, 0) == 0, "the child is left running")
        var reaped = false
        for _ in 0..<1000 where !reaped {
            usleep(5000)
            reaped = !isChildAlive(pid)
        }
        #expect(reaped)
    }
}

@LoopActor
private final class EventRecorder: SubprocessProtocol {
    var events: [String] = []
    let done: Future<Void>

    init(loop: EventLoop) { done = Future(loop: loop) }

    func connectionMade(_ transport: SubprocessTransport) { events.append("made") }
    func pipeDataReceived(_ fd: Int32, _ data: [UInt8]) {
        events.append("data \(fd) \(String(decoding: data, as: UTF8.self))")
    }
    func pipeConnectionLost(_ fd: Int32, _ error: (any Error)?) { events.append("pipe lost \(fd)") }
    func processExited() { events.append("exited 0") }
    func connectionLost(_ error: (any Error)?) {
        events.append("connection lost")
        try? done.setResult(())
    }
}

/// How many bytes of `data` differ from `pattern` repeated, `data` starting
/// at `offset` of the repetition.
private func countMismatches(_ data: [UInt8], against pattern: [UInt8], startingAt offset: Int) -> Int {
    var mismatches = 0
    var position = 0
    data.withUnsafeBytes { data in
        pattern.withUnsafeBytes { pattern in
            while position < data.count {
                let start = (offset + position) % pattern.count
                let length = min(pattern.count - start, data.count - position)
                if memcmp(data.baseAddress! + position, pattern.baseAddress! + start, length) != 0 { mismatches += 1 }
                position += length
            }
        }
    }
    return mismatches
}

@LoopActor
private func pipeInodes(of process: AsyncIO.Process) -> Set<UInt64> {
    Set([Int32(0), 1, 2].compactMap { fd in
        guard let fd = process.transport.getPipeTransport(fd)?.getExtraInfo("pipe") as? Int32 else { return nil }
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_ino) : nil
    })
}

/// The inodes of the pipes this process holds open.
func openPipeInodes() -> Set<UInt64> {
    Set((openDescriptorLinks() ?? []).compactMap { link in
        link.hasPrefix("pipe:[") ? UInt64(link.dropFirst(6).dropLast()) : nil
    })
}

/// Whether `pid` is a child of this process that ended and was not reaped.
func isZombieChild(_ pid: Int32) -> Bool {
    guard let stat = processStat(pid) else { return false }
    return stat.state == "Z" && stat.parent == getpid()
}

/// Whether `pid` is still this process's child (running, or a zombie).
func isChildAlive(_ pid: Int32) -> Bool {
    processStat(pid)?.parent == getpid()
}

/// The state letter and parent PID from `/proc/<pid>/stat`.
func processStat(_ pid: Int32) -> (state: Character, parent: Int32)? {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 512)
    guard fgets(&buffer, 512, file) != nil else { return nil }
    let line = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    // The command name is in parentheses and may hold spaces: read after the last ')'.
    guard let close = line.lastIndex(of: ")") else { return nil }
    let fields = line[line.index(after: close)...].split(separator: " ")
    guard fields.count > 1, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
    return (state, parent)
}

@LoopActor
private func childIsWatched(_ pid: Int32, by loop: EventLoop) -> Bool {
    loop.childWatcher.children[pid] != nil
}

/// A child's transport, protocol and streams are freed once it has ended
/// and nobody holds them, whether or not anyone waited for it.
@Suite(.suiteLimit) struct SubprocessLifetimeTests {
    @LoopActor
    private final class Weak {
        weak var transport: SubprocessTransport?
        weak var process: AsyncIO.Process?
        weak var stdout: StreamReader?
    }

    @Test func aProcessThatWasWaitedForIsFreed() throws {
        let freed = try runLoop { _ -> Bool in
            let weak = Weak()
            do {
                let process = try await createSubprocessShell("echo hi", stdin: .pipe, stdout: .pipe, stderr: .pipe)
                weak.process = process
                weak.transport = process.transport
                weak.stdout = process.stdout
                _ = try await process.communicate()
            }
            try await sleep(0)
            return weak.process == nil && weak.transport == nil && weak.stdout == nil
        }
        #expect(freed)
    }

    @Test func aProcessDroppedWhileRunningIsFreedOnceReaped() throws {
        let (freedEarly, freedLater) = try runLoop { loop -> (Bool, Bool) in
            let weak = Weak()
            var pid: Int32 = 0
            do {
                let process = try await createSubprocessExec("/bin/sleep", ["0.05"], stdout: .pipe)
                weak.transport = process.transport
                pid = process.pid
            }
            // The child watcher holds the transport while the child runs.
            let freedEarly = weak.transport == nil
            for _ in 0..<2000 where loop.childWatcher.children[pid] != nil || weak.transport != nil {
                try await sleep(0.005)
            }
            return (freedEarly, weak.transport == nil)
        }
        #expect(!freedEarly)
        #expect(freedLater)
    }

    @Test func aSubprocessProtocolThatKeepsItsTransportIsFreed() throws {
        let freed = try runLoop { loop -> Bool in
            let weak = Weak()
            weak.transport = try await { () -> SubprocessTransport in
                let (transport, keeper) = try await loop.subprocessShell({ TransportKeeper(loop: loop) }, command: "echo hi")
                try await keeper.done.value
                return transport
            }()
            try await sleep(0)
            return weak.transport == nil
        }
        #expect(freed)
    }
}

/// Holds its transport, as the chapter's protocol does.
@LoopActor
private final class TransportKeeper: SubprocessProtocol {
    var transport: SubprocessTransport?
    let done: Future<Void>
    init(loop: EventLoop) { done = Future(loop: loop) }
    func connectionMade(_ transport: SubprocessTransport) { self.transport = transport }
    func connectionLost(_ error: (any Error)?) { try? done.setResult(()) }
}

/// Edge cases found in review: cancellation while the pipes connect, and
/// descriptors given by number.
@Suite(.suiteLimit) struct SubprocessEdgeTests {
    @Test func cancellingWhileThePipesConnectEndsTheCallAndTheChild() throws {
        let (cancelled, watched) = try runLoop { loop -> (Bool, Int) in
            let starting = loop.createTask { try await createSubprocessExec("/bin/sleep", ["30"], stdout: .pipe) }
            try await sleep(0)  // the task has spawned the child and waits for its pipes
            starting.cancel()
            var cancelled = false
            do { _ = try await starting.value } catch is CancelledError { cancelled = true }
            return (cancelled, loop.childWatcher.children.count)
        }
        #expect(cancelled)
        #expect(watched == 0, "the child was killed and reaped")
    }

    @Test func aDescriptorGivenByANumberTheChildAlsoUsesIsTheParents() throws {
        // stdout becomes a pipe first; stderr asks for the parent's 1, which
        // must not be the pipe that has just taken the child's 1.
        let out = try runLoop { _ -> String in
            let process = try await createSubprocessShell("echo out; echo 'asyncio subprocess test: stderr to the parent stdout' >&2",
                                                          stdout: .pipe, stderr: .fileDescriptor(1))
            return String(decoding: try await process.communicate().stdout ?? [], as: UTF8.self)
        }
        #expect(out == "out\n")
    }

    @Test func aDescriptorThatIsNotOpenIsAnErrorAboutTheDescriptor() throws {
        let message = try runLoop { _ -> String in
            do {
                _ = try await createSubprocessExec("/bin/true", stdin: .fileDescriptor(987_654))
                return "started"
            } catch let error as OSError {
                return "\(error.errno) \(error.filename ?? "no file")"
            }
        }
        #expect(message == "\(EBADF) no file")
    }
}
