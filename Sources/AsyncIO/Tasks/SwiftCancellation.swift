/// Runs `body` where Swift's own cancellation reaches it: as a separate
/// Swift task on the loop, cancelled when the loop task awaiting it is
/// (by `cancel()`, `timeout`, a task group). Inside, `Task.sleep`,
/// `withTaskCancellationHandler`, `async let` children and Swift task
/// groups see the cancellation at once; this then waits for `body` to end
/// and throws the `CancelledError`.
///
/// The loop task itself is not a cancelled Swift task afterwards: Swift's
/// cancellation cannot be withdrawn, and a loop task may catch
/// `CancelledError` and go on, as asyncio's may. So only the work inside
/// this scope sees it.
///
/// `body` runs in a Swift task of its own, not in a loop task: the loop
/// task scopes (`timeout`, `withLoopTaskGroup`) throw `NoLoopTaskError`
/// there; use them around this call.
///
/// ```swift
/// try await timeout(0.1) {
///     try await withSwiftCancellation { try await Task.sleep(for: .seconds(1)) }
/// }   // throws TimeoutError after 0.1 s
/// ```
@LoopActor
public func withSwiftCancellation<T: Sendable>(
    _ body: @escaping @Sendable @LoopActor () async throws -> T
) async throws -> T {
    guard currentLoopTask() != nil else { throw NoLoopTaskError(scope: "withSwiftCancellation()") }
    let loop = runningLoop()
    // What the loop task awaits: cancelling the task cancels it, as
    // asyncio cancels the future a task waits on.
    let outcome = Future<T>(loop: loop)
    // When the Swift task has ended, which no cancellation touches.
    let ended = Future<Void>(loop: loop)
    let swiftTask = Task(executorPreference: loop) { @Sendable @LoopActor [outcome, ended] in
        do {
            outcome.complete(with: .success(try await body()))
        } catch {
            outcome.complete(with: .failure(error))
        }
        try? ended.setResult(())
    }
    do {
        return try await outcome.value
    } catch let cancelled as CancelledError where !ended.isDone {
        swiftTask.cancel()
        // Structured: the scope ends when its work has, however often the
        // loop task is cancelled meanwhile.
        while !ended.isDone { try? await shield(ended).waitUntilDone() }
        throw cancelled
    }
}
