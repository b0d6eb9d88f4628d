import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct ExecutorsCommand: TopicCommand {
    static let topic = Topic(
        name: "executors",
        section: "Combining Coroutines with Threads and Processes",
        abstract: "Blocking functions on a pool of threads or processes, awaited from a coroutine.",
        normalize: [.executorWorkers],
        examples: [
            Example(name: "thread", summary: "Six blocking calls share a pool of three threads.",
                    mirrors: "asyncio_executor_thread.py: run_in_executor, ThreadPoolExecutor",
                    run: threadExample),
            Example(name: "process", summary: "The same six calls on a pool of three worker processes.",
                    mirrors: "asyncio_executor_process.py: run_in_executor, ProcessPoolExecutor",
                    run: processExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

/// One log line in the chapter's format: who logs, right-aligned to 10
/// columns, then the logger's name right-aligned to 18.
func logLine(_ who: String, _ logger: String, _ message: String) {
    print("\(who.leftPadded(to: 10)) \(logger.leftPadded(to: 18)): \(message)")
}

extension String {
    /// Python's `'{:>N}'` for strings (`%(name)Ns`): padded on the left, never cut.
    func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}

// MARK: thread

/// The chapter's blocking function: logs, sleeps 0.1 s, returns n².
@Sendable
private func blocks(_ n: Int) -> Int {
    logLine(currentThreadName, "blocks(\(n))", "running")
    usleep(100_000)
    logLine(currentThreadName, "blocks(\(n))", "done")
    return n * n
}

private func threadExample() throws {
    let executor = ThreadPoolExecutor(maxWorkers: 3)
    defer { executor.shutdown(wait: true) }
    try runUntilComplete { loop in
        let log = { (message: String) in logLine(currentThreadName, "run_blocking_tasks", message) }
        log("starting")
        log("creating executor tasks")
        let blockingTasks = try (0..<6).map { i in try loop.runInExecutor(executor) { blocks(i) } }
        log("waiting for executor tasks")
        let (completed, _) = try await wait(blockingTasks)
        // In submission order: Python's `completed` is a set, printed in
        // whatever order it iterates.
        let results = try blockingTasks.filter { task in completed.contains { $0 === task } }.map { try $0.result() }
        log("results: [\(results.map(String.init).joined(separator: ", "))]")
        log("exiting")
    }
}

// MARK: process

/// One log line in the process example's format, `PID %(process)5s
/// %(name)18s: %(message)s`: the logging process's ID instead of the thread.
private func processLogLine(_ logger: String, _ message: String) {
    print("PID \(String(getpid()).leftPadded(to: 5)) \(logger.leftPadded(to: 18)): \(message)")
}

/// The chapter's blocking function for the process pool, run in a worker
/// process (registered as "blocks" in WorkerFunctions.swift): it logs with
/// the worker's own PID. The worker's stdout is relayed to the demo's.
@Sendable
func blocksInProcess(_ n: Int) -> Int {
    processLogLine("blocks(\(n))", "running")
    usleep(100_000)
    processLogLine("blocks(\(n))", "done")
    return n * n
}

private func processExample() throws {
    let executor = ProcessPoolExecutor(maxWorkers: 3)
    try runUntilComplete { loop in
        let log = { (message: String) in processLogLine("run_blocking_tasks", message) }
        log("starting")
        log("creating executor tasks")
        let blockingTasks = try (0..<6).map { i in try loop.runInExecutor(executor, blocks, i) }
        log("waiting for executor tasks")
        let (completed, _) = try await wait(blockingTasks)
        // In submission order, as in the thread example.
        let results = try blockingTasks.filter { task in completed.contains { $0 === task } }.map { try $0.result() }
        log("results: [\(results.map(String.init).joined(separator: ", "))]")
        log("exiting")
        // Python's pool is joined at exit; here the workers are stopped and
        // reaped before the loop closes.
        await executor.shutdown()
    }
}
