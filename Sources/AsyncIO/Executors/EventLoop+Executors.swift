/// A loop's default executor (asyncio's `_default_executor`): made on
/// first use, a `ThreadPoolExecutor` whose threads are named `asyncio_N`.
struct DefaultExecutorState {
    var executor: ThreadPoolExecutor?
    /// `shutdownDefaultExecutor` was called: no more default-executor work.
    var isShutDown = false
    /// Calls submitted from this loop whose results have not come back.
    var callsInFlight = 0
}

/// How long a loop with nothing else to do watches its inbox for a pool's
/// result before it sleeps in epoll, and a worker with nothing to do
/// watches its queue before it sleeps on its condition variable. Waking a
/// sleeping thread costs tens of microseconds here; a call to a pool and
/// back is often quicker than that, so a short watch saves both wake-ups
/// when calls follow one another. The cost is at most this much CPU per
/// idle period.
let workerHandOffSpin = 50e-6

/// `runInExecutor(nil, …)` after `shutdownDefaultExecutor` (Python raises
/// `RuntimeError('Executor shutdown has been called')`).
public struct DefaultExecutorShutDownError: Error, CustomStringConvertible, Equatable {
    public var description: String { "Executor shutdown has been called" }
}

extension EventLoop {
    /// The executor `runInExecutor(nil, …)`, `toThread` and `getaddrinfo` use.
    @LoopActor
    func defaultExecutorForUse() throws -> ThreadPoolExecutor {
        guard !executors.isShutDown else { throw DefaultExecutorShutDownError() }
        if let executor = executors.executor { return executor }
        let executor = ThreadPoolExecutor(threadNamePrefix: "asyncio")
        executors.executor = executor
        return executor
    }

    /// Replaces the default executor; the one it replaces is not shut down
    /// (asyncio's `set_default_executor`).
    @LoopActor
    public func setDefaultExecutor(_ executor: ThreadPoolExecutor) {
        executors.executor = executor
    }

    /// Runs `work` on a worker of `executor` (the default executor when nil)
    /// and returns a future of its result, without blocking the loop
    /// (asyncio's `run_in_executor`); await its `value`. The outcome comes
    /// back through the loop's thread-safe inbox.
    ///
    /// Cancelling the future (as cancelling a task that awaits it does)
    /// cancels the call if it has not started, as
    /// `concurrent.futures.Future.cancel` does; a call already running runs
    /// to the end and its result is dropped.
    @LoopActor
    public func runInExecutor<T: Sendable>(_ executor: ThreadPoolExecutor? = nil,
                                           _ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        checkOpen()
        let executor = try executor ?? defaultExecutorForUse()
        let future = ExecutorCallFuture<T>(loop: self)
        let item = WorkItem({ [self] in
            let outcome = Result { try work() }
            callSoonThreadsafe(label: "executor result") {
                self.executors.callsInFlight -= 1
                future.item = nil
                future.complete(with: outcome)
            }
        }, abandoned: { [self] in
            callSoonThreadsafe(label: "executor cancelled") {
                self.executors.callsInFlight -= 1
                _ = future.cancel()
            }
        })
        try executor.submit(item)
        // Only now: a refused item must not be left holding the future it
        // captures. The worker's outcome reaches the loop later than this.
        future.item = item
        executors.callsInFlight += 1
        return future
    }

    /// Called before the loop would sleep: if pool calls are out, watches
    /// the inbox for a moment; true if something arrived.
    @LoopActor
    func awaitingWorkerSoon() -> Bool {
        guard executors.callsInFlight > 0 else { return false }
        let deadline = monotonicSeconds() + workerHandOffSpin
        repeat {
            for _ in 0..<64 where inboxHasItems { return true }
        } while monotonicSeconds() < deadline
        return false
    }

    /// Shuts the default executor down and waits for its threads to finish,
    /// without blocking the loop (asyncio's `shutdown_default_executor`);
    /// `run { }` calls it at the end. Later default-executor work throws.
    @LoopActor
    public func shutdownDefaultExecutor() async {
        executors.isShutDown = true
        guard let executor = executors.executor else { return }
        executors.executor = nil
        let done = Future<Void>(loop: self)
        runDetached { [self] in
            executor.shutdown(wait: true)
            callSoonThreadsafe(label: "default executor shut down") { try? done.setResult(()) }
        }
        try? await done.waitUntilDone()
    }

    /// At `close()`: the default executor stops taking work. With calls
    /// still out, its threads end once those are done, unwaited for
    /// (asyncio's `close` calls `shutdown(wait=False)`); with none, they are
    /// joined, which takes no time: threads left running at exit keep the C
    /// library from freeing their state (valgrind reports it lost). A pool
    /// set as default and shared with other loops may make this wait for
    /// their calls.
    @LoopActor
    func releaseDefaultExecutor() {
        executors.executor?.shutdown(wait: executors.callsInFlight == 0)
        executors.executor = nil
    }
}

/// The future of a call in a thread pool: cancelling it cancels the call
/// too, if it has not started.
/// The future and its item hold each other until the call ends.
final class ExecutorCallFuture<T: Sendable>: Future<T> {
    var item: WorkItem?

    override func cancel(message: String? = nil) -> Bool {
        guard super.cancel(message: message) else { return false }
        // A call that never starts never reports back.
        if item?.cancel() == true { loop.executors.callsInFlight -= 1 }
        item = nil
        return true
    }
}

extension Future {
    /// Sets the outcome of work done elsewhere, unless the future was
    /// cancelled meanwhile.
    func complete(with outcome: Result<T, any Error>) {
        guard !isDone else { return }
        switch outcome {
        case .success(let value): succeed(value)
        case .failure(let error): try? setException(error)
        }
    }
}

/// Runs `work` on a thread of the running loop's default executor and
/// returns its result (asyncio's `to_thread`). The work runs inside a
/// Swift task made from the calling one, so it sees the caller's task-local
/// values, as `to_thread` copies the caller's `contextvars`.
@LoopActor
public func toThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    let loop = runningLoop()
    let executor = try loop.defaultExecutorForUse()
    // A shut-down pool would run the task's job on this thread instead.
    guard !executor.isShutDownForWork else { throw ExecutorShutdownError() }
    let future = Future<T>(loop: loop)
    let task = startCopyingTaskLocals(on: executor) {
        let outcome = Result { try work() }
        loop.callSoonThreadsafe(label: "to_thread result") {
            loop.executors.callsInFlight -= 1
            future.complete(with: outcome)
        }
    } cancelled: {
        loop.callSoonThreadsafe(label: "to_thread cancelled") {
            loop.executors.callsInFlight -= 1
            _ = future.cancel()
        }
    }
    loop.executors.callsInFlight += 1
    do {
        return try await future.value
    } catch let error as CancelledError {
        task.cancel()
        throw error
    }
}

/// Starts `body` as a Swift task on `executor`'s threads. Nonisolated, so
/// the task runs where it prefers rather than on the loop; a new task
/// copies the task-local values of the task that makes it. If it is
/// cancelled before a worker takes it, `cancelled` runs instead.
nonisolated private func startCopyingTaskLocals(
    on executor: ThreadPoolExecutor, _ body: @escaping @Sendable () -> Void,
    cancelled: @escaping @Sendable () -> Void
) -> Task<Void, Never> {
    Task(executorPreference: executor) {
        if Task.isCancelled { cancelled() } else { body() }
    }
}
