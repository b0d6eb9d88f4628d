import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

// The functions asyncio-demo's process-pool workers can run. A worker is
// asyncio-demo itself, started by the pool with a hidden argument:
// `main` registers these, then calls `runWorkerIfRequested()` before
// anything else (Command.swift).

/// The chapter's function (Topics/Executors.swift, the `process` example).
let blocks = RemoteFunction<Int, Int>("blocks")

/// Registers every function, the chapter's and the tests'.
func registerWorkerFunctions() {
    ProcessPoolExecutor.register(blocks.name, blocksInProcess)
    registerTestWorkerFunctions()
}

// MARK: For tests and benchmarks, not part of the chapter

/// A registered function's failure, which the pool reports as a
/// `RemoteError` naming this type.
struct WorkerFunctionFailure: Error, CustomStringConvertible {
    let value: Int
    var description: String { "refusing \(value)" }
}

/// Functions that Tests/AsyncIOTests/ProcessPoolTests.swift runs in
/// asyncio-demo workers: the library's tests cannot register functions in
/// a program of their own.
private func registerTestWorkerFunctions() {
    ProcessPoolExecutor.register("square") { (n: Int) in n * n }
    /// The worker's process ID, to tell the workers apart.
    ProcessPoolExecutor.register("pid") { (_: Int) in getpid() }
    /// Big arguments and results, which take several reads to arrive.
    ProcessPoolExecutor.register("length") { (text: String) in text.utf8.count }
    ProcessPoolExecutor.register("text") { (count: Int) in String(repeating: "x", count: count) }
    ProcessPoolExecutor.register("fail") { (n: Int) -> Int in throw WorkerFunctionFailure(value: n) }
    /// Dies in the middle of the call, without a word: `_exit` rather than
    /// a trap, whose crash report would flood the test log.
    ProcessPoolExecutor.register("crash") { (_: Int) -> Int in _exit(70) }
    /// Creates the file at `path`: a test checks that a call never ran.
    ProcessPoolExecutor.register("touch") { (path: String) -> Int in
        close(open(path, O_WRONLY | O_CREAT, 0o644))
        return 0
    }
    /// Writes the worker's PID to the file at `path`, then sleeps for a
    /// minute: a test waits for the file, then kills the worker mid-call.
    ProcessPoolExecutor.register("mark-and-sleep") { (path: String) -> Int in
        let text = "\(getpid())"
        let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        rename(path + ".tmp", path)  // whole, or not there at all
        sleep(60)
        return 0
    }
}
