/// Suspends the current task for `seconds` (asyncio's `sleep`). Cancelling
/// the task makes it throw `CancelledError` at once. `sleep(0)` gives way
/// for exactly one loop iteration.
///
/// The task is its own timer: a sleep allocates nothing. Inlined into the
/// caller, as `Future.value` is: a call costs two executor checks.
@LoopActor @inlinable @inline(__always)
public func sleep(_ seconds: Double) async throws {
    guard seconds > 0 else { return try await yieldOneIteration() }
    guard let task = currentTask() else { return await sleepOutsideTask(seconds) }
    await _unsafeInheritExecutor_withUnsafeContinuation { task.sleep(seconds, $0) }
    if let cancelled = task.resumed() { throw cancelled }
}

/// `sleep` in a Swift task that is not a loop task, which nothing cancels.
@LoopActor @usableFromInline
func sleepOutsideTask(_ seconds: Double) async {
    let loop = runningLoop()
    await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
        loop.callLater(seconds, label: "sleep") { loop.ready.append(.wakeUp(continuation)) }
    }
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

/// `sleep` for a `Duration` (`.milliseconds(100)`), as Swift's `Task.sleep(for:)` takes it.
@LoopActor
public func sleep(for duration: Duration) async throws {
    let (seconds, attoseconds) = duration.components
    try await sleep(Double(seconds) + Double(attoseconds) * 1e-18)
}
