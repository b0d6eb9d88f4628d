import Testing
import TestSupport

/// `asyncio-demo subprocess`: the parts the goldens normalise away are
/// checked here against the real programs.
@Suite(.suiteLimit) struct SubprocessDemoTests {
    /// The mount points of `df -hl`, in its order, from its last column.
    private func dfMountPoints() throws -> [String] {
        let df = try ChildProcess.run("/bin/sh", ["-c", "df -hl"])
        try #require(df.status == 0)
        return df.stdoutText.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    /// The `mount : avail` lines after `Free space:`.
    private func freeSpaceRows(_ output: String) -> [(mount: String, avail: String)] {
        guard let start = output.range(of: "\nFree space:\n") else { return [] }
        return output[start.upperBound...].split(separator: "\n").map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (parts[0].trimmingSpaces, parts.count > 1 ? parts[1].trimmingSpaces : "")
        }
    }

    @Test(arguments: ["protocol", "coroutine"])
    func freeSpaceIsParsedFromDFsRealOutput(example: String) throws {
        let run = try Demo.run(["subprocess", example])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = freeSpaceRows(run.stdout)
        #expect(rows.map(\.mount) == (try dfMountPoints()))
        // Sizes as df -h prints them: digits, maybe a decimal point, maybe a unit.
        for row in rows {
            #expect(row.avail.first?.isNumber == true && row.avail.allSatisfy { $0.isNumber || ".KMGTPE".contains($0) },
                    "\(row)")
        }
    }

    @Test func theCoroutineExampleEchoesEveryLineDFPrinted() throws {
        let run = try Demo.run(["subprocess", "coroutine"])
        let echoed = run.stdout.split(separator: "\n").filter { $0.hasPrefix("read b'") && $0 != "read b''" }
        // The header, then one line per file system.
        #expect(echoed.count == (try dfMountPoints()).count + 1)
    }

    @Test func aCommandAfterTheTerminatorRunsInPlaceOfDF() throws {
        let run = try Demo.run(["subprocess", "coroutine", "--", "printf", "one\\ntwo\\n"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("read b'one\\n'\nread b'two\\n'\nread b''\nno more output from command\n"))
        #expect(!run.stdout.contains("Free space:"))
    }

    @Test func aMissingProgramIsAOneLineErrorWithStatusOne() throws {
        let run = try Demo.run(["subprocess", "write", "--", "no-such-program-asyncio"])
        #expect(run.status == 1)
        #expect(run.stderr == "asyncio-demo: cannot run 'no-such-program-asyncio': [Errno 2] No such file or directory: 'no-such-program-asyncio'\n")
    }

    @Test func aCommandNeedsAnExample() throws {
        let run = try Demo.run(["subprocess", "--", "ls"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("a command after -- needs an example"))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// `asyncio-demo executors`: what the goldens normalise away, checked on
/// the raw output.
@Suite(.suiteLimit) struct ExecutorsDemoTests {
    @Test func threadExampleRunsSixCallsOnThreeNamedWorkers() throws {
        let run = try Demo.run(["executors", "thread"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let workerLines = lines.filter { $0.contains(" blocks(") }
        let workers = Set(workerLines.map { String($0.prefix { $0 != " " }) })
        #expect(workers == ["ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1", "ThreadPoolExecutor-0_2"])
        for n in 0..<6 {
            let running = workerLines.firstIndex { $0.hasSuffix("blocks(\(n)): running") }
            let done = workerLines.firstIndex { $0.hasSuffix("blocks(\(n)): done") }
            #expect(running != nil && done != nil && running! < done!, "blocks(\(n))")
        }
        // Never more than three calls running at once.
        var running = 0, most = 0
        for line in workerLines {
            running += line.hasSuffix(": running") ? 1 : -1
            most = max(most, running)
        }
        #expect(most == 3)
        #expect(lines.last == "MainThread run_blocking_tasks: exiting")
        #expect(lines.contains("MainThread run_blocking_tasks: results: [0, 1, 4, 9, 16, 25]"))
    }

    @Test func processExampleRunsSixCallsInThreeOtherProcesses() throws {
        let run = try Demo.run(["executors", "process"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr == "")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        /// `PID  4242          blocks(0): running` → (4242, "blocks(0)", "running").
        func parse(_ line: String) -> (pid: Int32, logger: String, message: String)? {
            guard line.hasPrefix("PID "), let colon = line.range(of: ": ") else { return nil }
            let fields = line[..<colon.lowerBound].split(separator: " ")
            guard fields.count == 3, let pid = Int32(fields[1]) else { return nil }
            return (pid, String(fields[2]), String(line[colon.upperBound...]))
        }
        let entries = lines.compactMap(parse)
        #expect(entries.count == lines.count, "every line is in the chapter's format")
        let main = entries.filter { $0.logger == "run_blocking_tasks" }
        let workers = entries.filter { $0.logger.hasPrefix("blocks(") }
        let mainPIDs = Set(main.map(\.pid))
        let workerPIDs = Set(workers.map(\.pid))
        #expect(mainPIDs.count == 1)
        #expect(workerPIDs.count == 3)
        #expect(mainPIDs.isDisjoint(with: workerPIDs))
        #expect(main.map(\.message) == ["starting", "creating executor tasks", "waiting for executor tasks",
                                         "results: [0, 1, 4, 9, 16, 25]", "exiting"])
        for n in 0..<6 {
            let calls = workers.enumerated().filter { $0.element.logger == "blocks(\(n))" }
            #expect(calls.map(\.element.message) == ["running", "done"], "blocks(\(n))")
            // Both lines come from the one worker that ran the call.
            #expect(Set(calls.map(\.element.pid)).count == 1, "blocks(\(n))")
        }
        // A worker runs one call at a time: its lines alternate running, done.
        for pid in workerPIDs {
            let messages = workers.filter { $0.pid == pid }.map(\.message)
            #expect(messages == Array(repeating: ["running", "done"], count: messages.count / 2).flatMap { $0 })
        }
        // The workers' lines all come before the results, which need them all.
        let resultsIndex = try #require(lines.firstIndex { $0.hasSuffix("results: [0, 1, 4, 9, 16, 25]") })
        #expect(lines[..<resultsIndex].filter { $0.contains(" blocks(") }.count == 12)
    }
}
