/// Protects `inner` from cancellation (asyncio's `shield`): returns a new
/// future that completes as `inner` does, but cancelling it (or the task
/// awaiting it) leaves `inner` running. If `inner` is cancelled some other
/// way, the returned future is cancelled too.
///
/// ```swift
/// let result = try await shield(task).value   // await asyncio.shield(task)
/// ```
@LoopActor
public func shield<T: Sendable>(_ inner: Future<T>) -> Future<T> {
    if inner.isDone { return inner }
    let outer = Future<T>(loop: inner.loop)
    let token = inner.addDoneCallback { inner in
        guard !outer.isCancelled else {
            // Nobody waits for it any more; as asyncio, not a hidden failure.
            if !inner.isCancelled { _ = try? inner.exception() }
            return
        }
        if inner.isCancelled {
            outer.cancel()
        } else {
            outer.complete(with: Result { try inner.result() })
        }
    }
    outer.addDoneCallback { _ in
        if !inner.isDone { inner.removeDoneCallback(token) }
    }
    return outer
}

/// Runs `operation` as a task and shields it: `shield(createTask(operation))`.
@LoopActor
public func shield<T: Sendable>(
    fileID: StaticString = #fileID, line: UInt = #line,
    _ operation: @escaping @LoopActor () async throws -> T
) -> Future<T> {
    shield(createTask(fileID: fileID, line: line, operation))
}
