/// Suspends the current task for `seconds` (asyncio's `sleep`). Cancelling
/// the task makes it throw `CancelledError` at once. `sleep(0)` gives way
/// for exactly one loop iteration.
///
/// Inlined into the caller, as `Future.value` is: a call costs two
/// executor checks.
@LoopActor @inlinable @inline(__always)
public func sleep(_ seconds: Double) async throws {
    guard seconds > 0 else { return try await yieldOneIteration() }
    let timer = SleepTimer(after: seconds)
    let task = currentTask()
    await suspendOnLoop { timer.start($0, task: task) }
    try timer.finish(task)
}

/// The timer of one `sleep`, which the sleeping task waits on directly:
/// asyncio's future plus the timer handle that completes it, in one object.
/// When due it schedules the task's wake-up, one iteration later, exactly
/// where asyncio's completed future schedules it.
@LoopActor @usableFromInline
final class SleepTimer: TimerHandle, Awaited {
    private var continuation: UnsafeContinuation<Void, Never>?
    private var cancelledMessage: String?

    /// A timer due `seconds` from now.
    @usableFromInline
    init(after seconds: Double) {
        let loop = runningLoop()
        super.init(when: loop.time() + seconds, loop: loop, label: "sleep", nil)
    }

    /// Schedules the timer; the task is suspended until it fires or is cancelled.
    @usableFromInline
    func start(_ continuation: UnsafeContinuation<Void, Never>, task: (any AwaitingTask)?) {
        self.continuation = continuation
        loop.timers.schedule(self)
        task?.suspended(on: self)
        loop.suspendedInRuntime = true
    }

    /// After the task resumed: throws `CancelledError` if it was cancelled.
    @usableFromInline
    func finish(_ task: (any AwaitingTask)?) throws {
        if let task, let cancelled = task.resumed() { throw cancelled }
        if isCancelled { throw CancelledError(cancelledMessage) }
    }

    override func run() {
        wake()
    }

    /// Cancels the sleep and wakes the task, which then throws
    /// `CancelledError`; false if the timer already fired.
    @usableFromInline
    func cancel(message: String?) -> Bool {
        guard continuation != nil else { return false }
        cancelledMessage = message
        super.cancel()
        wake()
        return true
    }

    private func wake() {
        guard let continuation else { return }
        self.continuation = nil
        loop.ready.append(.wakeUp(continuation))
    }

    @usableFromInline
    var repr: String { "<Future pending>" }
}

/// `sleep(0)`: gives way for exactly one loop iteration. A cancel request
/// made meanwhile is delivered here, as asyncio throws it into the
/// coroutine at its bare `yield`.
@LoopActor @usableFromInline
func yieldOneIteration() async throws {
    await runningLoop().yieldOnce()
    if let cancelled = currentTask()?.resumed() { throw cancelled }
}

/// Like `sleep`, then returns `result` (asyncio's `sleep(delay, result)`).
@LoopActor
public func sleep<T: Sendable>(_ seconds: Double, result: T) async throws -> T {
    try await sleep(seconds)
    return result
}
