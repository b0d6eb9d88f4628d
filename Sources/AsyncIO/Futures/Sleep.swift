/// Suspends the current task for `seconds` (asyncio's `sleep`). Cancelling
/// the task makes it throw `CancelledError` at once. `sleep(0)` gives way
/// for exactly one loop iteration.
@LoopActor
public func sleep(_ seconds: Double) async throws {
    let loop = runningLoop()
    guard seconds > 0 else {
        await loop.yieldOnce()
        // A cancel request made while yielding is delivered here, as asyncio
        // throws it into the coroutine at its bare `yield`.
        if let cancelled = currentTask()?.resumed() { throw cancelled }
        return
    }
    let future = Future<Void>(loop: loop)
    let timer = loop.callLater(seconds, label: "sleep") {
        if !future.isDone { try? future.setResult(()) }
    }
    defer { timer.cancel() }
    try await future.value
}

/// Like `sleep`, then returns `result` (asyncio's `sleep(delay, result)`).
@LoopActor
public func sleep<T: Sendable>(_ seconds: Double, result: T) async throws -> T {
    try await sleep(seconds)
    return result
}

