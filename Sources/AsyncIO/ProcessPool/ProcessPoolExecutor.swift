#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DequeModule

/// A pool of worker processes for CPU-bound work (Python's
/// `concurrent.futures.ProcessPoolExecutor`), driven from an event loop:
/// `loop.runInExecutor(pool, "square", 3)` returns a future of the result.
///
/// The workers are this executable again (`/proc/self/exe`), started with a
/// hidden argument that `runWorkerIfRequested()`, called at the top of
/// `main`, recognises; they run functions registered by name with
/// `register`, arguments and results passed as JSON in length-prefixed
/// frames over pipes. The pipes are watched by the loop like any other:
/// no thread waits on them and the loop never blocks.
///
/// Workers start as calls arrive and none is idle, up to `maxWorkers`, and
/// stay until `shutdown`. A worker that dies (crashes, is killed, exits)
/// breaks the pool, as in Python: every call not yet answered fails with
/// `BrokenProcessPool`, the other workers are stopped, and every later
/// submission throws it. A pool serves the loop that first submitted to it.
/// Shut it down when done: an open pool keeps its workers until then, or
/// until its loop closes, which stops them.
@LoopActor
public final class ProcessPoolExecutor {
    public nonisolated let maxWorkers: Int
    /// The program the workers run, as given.
    public nonisolated let executable: String
    /// The path the workers are started from (see `resolve`).
    private nonisolated let program: String
    /// argv[0] of the workers: this process's own when they are this executable.
    private nonisolated let workerName: String

    private enum State {
        case open
        /// `shutdown` was called: calls already submitted still run.
        case shutDown
        /// A worker died: nothing runs any more.
        case broken
    }

    private var state = State.open
    private var loop: EventLoop?
    /// Calls not yet sent to a worker, oldest first; cancelled ones are
    /// skipped when their turn comes.
    private var pending = Deque<PoolCall>()
    private var workers: [PoolWorker] = []
    /// Every worker process started, in order.
    private(set) var processIDs: [Int32] = []
    private var dispatchScheduled = false
    /// False once starting a worker failed: the pool goes on with those it
    /// has rather than trying again on every call.
    private var mayStartWorkers = true
    /// How long a call takes as the loop sees it (its share of a round
    /// trip included), averaged; nil until a worker has answered twice.
    private var secondsPerCall: Double?
    private var shutdownWaiters: [Future<Void>] = []
    let coders = FunctionRegistry.Coders()

    /// Python's default pool size: the number of cores.
    public nonisolated static var defaultMaxWorkers: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The most calls a worker is sent ahead of its answers. Sending several
    /// at once lets both sides batch their reads and writes, which matters
    /// for short calls; see `callsPerWorker`.
    static let maxCallsInFlight = 256
    /// How much work, in seconds, a worker is sent ahead: enough to make a
    /// batch of short calls worth its system calls, little enough that a
    /// call queued behind others on one worker waits no longer than this
    /// while another worker idles.
    static let queuedWorkWindow = 0.001

    /// A pool of at most `maxWorkers` processes (the number of cores by
    /// default) running `executable`, this program by default. Another
    /// program must call `runWorkerIfRequested()` as this one does.
    public nonisolated init(maxWorkers: Int? = nil, executable: String = "/proc/self/exe") {
        let maxWorkers = maxWorkers ?? Self.defaultMaxWorkers
        precondition(maxWorkers > 0, "maxWorkers must be greater than 0")
        self.maxWorkers = maxWorkers
        self.executable = executable
        program = Self.resolve(executable)
        workerName = executable == "/proc/self/exe" ? String(cString: CommandLine.unsafeArgv[0]!) : executable
    }

    /// `/proc/self/exe` is read as a link, once, rather than executed:
    /// valgrind runs a program inside its own binary, which is what the link
    /// executes, but answers `readlink` with the program's path. A program
    /// deleted or replaced since it started is reached only through the
    /// link itself.
    private nonisolated static func resolve(_ executable: String) -> String {
        guard executable == "/proc/self/exe" else { return executable }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink(executable, $0.baseAddress!, Int(PATH_MAX)) }
        }
        guard count > 0 else { return executable }
        let path = String(decoding: buffer[..<count], as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? executable : path
    }

    // MARK: Submitting

    /// Queues a call of `function` with `argument` and returns its future.
    func submit<Argument: Encodable, Result: Decodable & Sendable>(
        _ function: String, _ argument: Argument, on loop: EventLoop
    ) throws -> Future<Result> {
        switch state {
        case .open: break
        case .shutDown: throw ExecutorShutdownError()
        case .broken: throw BrokenProcessPool()
        }
        if let bound = self.loop, bound !== loop { throw ProcessPoolError.boundToAnotherLoop }
        self.loop = loop
        let encoded = try coders.encoder.encode(argument)
        let future = ProcessCallFuture<Result>(loop: loop, function: function)
        pending.append(PoolCall(future: future, argument: encoded))
        do {
            try startWorkerIfNeeded(loop)
        } catch {
            pending.removeLast()
            throw error
        }
        if !dispatchScheduled {
            // Once per iteration: calls submitted together go out together.
            dispatchScheduled = true
            loop.callSoon(label: "process pool dispatch") { [self] in
                dispatchScheduled = false
                dispatch()
            }
        }
        return future
    }

    /// Starts a worker when more calls wait than workers are idle, as
    /// Python's pool does on `submit`. Throws only if no worker runs at all;
    /// otherwise the pool goes on with those it has.
    private func startWorkerIfNeeded(_ loop: EventLoop) throws {
        guard workers.count < maxWorkers, mayStartWorkers else { return }
        let idle = workers.reduce(0) { $0 + ($1.inFlight.isEmpty ? 1 : 0) }
        guard pending.count > idle else { return }
        do {
            let worker = try PoolWorker.start(executable: program, name: workerName, loop: loop, pool: self)
            workers.append(worker)
            processIDs.append(worker.pid)
        } catch {
            guard !workers.isEmpty else { throw error }
            mayStartWorkers = false
            loop.callExceptionHandler(ExceptionContext(
                message: "Could not start another process-pool worker; going on with \(workers.count)", error: error))
        }
    }

    // MARK: Dispatching

    /// Sends waiting calls to the workers, dealt one at a time in turn (so
    /// the first calls go to different workers, as in Python's pool), each
    /// worker up to `callsPerWorker`, then writes each worker's batch once.
    private func dispatch() {
        guard state != .broken else { return }
        let limit = callsPerWorker()
        dealing: while true {
            var sent = false
            for worker in workers where worker.isAvailable && worker.inFlight.count < limit {
                guard let call = nextLiveCall() else { break dealing }
                worker.send(call)
                sent = true
            }
            if !sent { break }
        }
        for worker in workers { worker.flush() }
        if state == .shutDown, pending.isEmpty {
            for worker in workers { worker.closeStdin() }
        }
    }

    private func nextLiveCall() -> PoolCall? {
        while let call = pending.popFirst() {
            if !call.future.isDone { return call }
        }
        return nil
    }

    /// How many calls a worker is sent ahead: enough to cover
    /// `queuedWorkWindow` at the measured pace, at least one, one until a
    /// worker has been measured. Calls of 0.1 s go one at a time, as in the
    /// documentation's example; calls of microseconds go in batches.
    private func callsPerWorker() -> Int {
        guard let secondsPerCall, secondsPerCall > 0 else { return 1 }
        let ahead = Self.queuedWorkWindow / secondsPerCall
        return ahead >= Double(Self.maxCallsInFlight) ? Self.maxCallsInFlight : max(1, Int(ahead))
    }

    // MARK: What workers report

    func recordCallDuration(_ seconds: Double) {
        secondsPerCall = secondsPerCall.map { $0 * 0.75 + seconds * 0.25 } ?? seconds
    }

    /// A worker answered: it has room for more.
    func workerAnswered() { dispatch() }

    /// A worker ended while the pool needed it: the pool is broken, as in
    /// Python. Every call not yet answered fails, and the other workers are
    /// stopped at once.
    func workerDied() {
        guard state != .broken else { return }
        state = .broken
        let error = BrokenProcessPool()
        let calls = pending
        pending.removeAll()
        for worker in workers { worker.terminate(failing: error) }
        for call in calls { call.future.failCall(error) }
    }

    /// The worker has exited, been reaped, and its pipes are closed.
    func workerFinished(_ worker: PoolWorker) {
        workers.removeAll { $0 === worker }
        guard workers.isEmpty else { return }
        let waiters = shutdownWaiters
        shutdownWaiters = []
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(()) }
    }

    /// The loop is closing with `worker` running: the pool stops taking work.
    func loopClosed(_ worker: PoolWorker) {
        if state == .open { state = .shutDown }
        pending.removeAll()
        workers.removeAll { $0 === worker }
        shutdownWaiters = []
    }

    // MARK: Shutting down

    /// Stops taking calls (Python's `shutdown`): later submissions throw
    /// `ExecutorShutdownError`. Calls already submitted still run, unless
    /// `cancelFutures` cancels those not yet sent to a worker; then each
    /// worker's stdin is closed, and it exits once it has answered what it
    /// was sent. With `wait`, returns once every worker has exited and been
    /// reaped and its pipes are closed; without, that happens on the loop
    /// meanwhile. A cancelled `shutdown` stops waiting; the workers still stop.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) async {
        if state == .open { state = .shutDown }
        if cancelFutures {
            let calls = pending
            pending.removeAll()
            for call in calls { call.future.cancelCall() }
        }
        if pending.isEmpty {
            for worker in workers { worker.closeStdin() }
        }
        guard wait, let loop, !workers.isEmpty else { return }
        let finished = Future<Void>(loop: loop)
        shutdownWaiters.append(finished)
        try? await finished.waitUntilDone()
    }
}
