/// Suspends the current task for `seconds` (asyncio's `sleep`). Cancelling
/// the task makes it throw `CancelledError` at once. `sleep(0)` gives way
/// for exactly one loop iteration.
@LoopActor
public func sleep(_ seconds: Double) async throws {
    guard seconds > 0 else { return try await yieldOneIteration() }
    // Kept small on purpose: a suspended task's frames share its first
    // memory slab, and a larger frame here costs every sleeping task a
    // second slab (about 1 KiB).
    let loop = runningLoop()
    let timer = SleepTimer(when: loop.time() + seconds, loop: loop)
    let task = currentTask()
    await withUnsafeContinuation { continuation in
        timer.continuation = continuation
        loop.timers.schedule(timer)
        task?.suspended(on: timer)
        loop.suspendedInRuntime = true
    }
    if let task, let cancelled = task.resumed() { throw cancelled }
    if timer.isCancelled { throw CancelledError(timer.cancelledMessage) }
}

/// The timer of one `sleep`, which the sleeping task waits on directly:
/// asyncio's future plus the timer handle that completes it, in one object.
/// When due it schedules the task's wake-up, one iteration later, exactly
/// where asyncio's completed future schedules it.
@LoopActor
final class SleepTimer: TimerHandle, Awaited {
    @exclusivity(unchecked) var continuation: UnsafeContinuation<Void, Never>?
    private(set) var cancelledMessage: String?
    private unowned let loop: EventLoop

    init(when: Double, loop: EventLoop) {
        self.loop = loop
        super.init(when: when, loop: loop, label: "sleep", nil)
    }

    override func run() {
        wake()
    }

    /// Cancels the sleep and wakes the task, which then throws
    /// `CancelledError`; false if the timer already fired.
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

    var repr: String { "<Future pending>" }
}

/// `sleep(0)`: gives way for exactly one loop iteration. A cancel request
/// made meanwhile is delivered here, as asyncio throws it into the
/// coroutine at its bare `yield`.
@LoopActor
private func yieldOneIteration() async throws {
    await runningLoop().yieldOnce()
    if let cancelled = currentTask()?.resumed() { throw cancelled }
}

/// Like `sleep`, then returns `result` (asyncio's `sleep(delay, result)`).
@LoopActor
public func sleep<T: Sendable>(_ seconds: Double, result: T) async throws -> T {
    try await sleep(seconds)
    return result
}
