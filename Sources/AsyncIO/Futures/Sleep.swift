/// Suspends the current task for `seconds` (asyncio's `sleep`). Cancelling
/// the task makes it throw `CancelledError` at once. `sleep(0)` gives way
/// for exactly one loop iteration.
@LoopActor
public func sleep(_ seconds: Double) async throws {
    guard seconds > 0 else { return try await yieldOneIteration() }
    // Kept small on purpose: a suspended task's frames share its first
    // memory slab, and a larger frame here costs every sleeping task a
    // second slab (about 1 KiB).
    let future = Future<Void>(loop: runningLoop())
    let timer = future.loop.callLater(seconds, label: "sleep") { try? future.setResult(()) }
    try await future.waitUntilDone()
    if future.isCancelled {
        timer.cancel()
        throw CancelledError(future.cancelledMessage)
    }
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

