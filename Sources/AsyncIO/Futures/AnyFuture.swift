/// What composition (`wait`, `gather`, `asCompleted`) needs of a future,
/// whatever its result type.
@LoopActor
public protocol AnyFuture: AnyObject, Sendable {
    var loop: EventLoop { get }
    var isDone: Bool { get }
    var isCancelled: Bool { get }
    @discardableResult func cancel(message: String?) -> Bool
    /// The error the future finished with, nil if it succeeded; throws
    /// `CancelledError` if cancelled and `InvalidStateError` if pending.
    func exception() throws -> (any Error)?
    /// Calls `callback` through the loop once the future is done.
    @discardableResult
    func addDoneCallback(any callback: @escaping @LoopActor () -> Void) -> DoneCallbackToken
    @discardableResult func removeDoneCallback(_ token: DoneCallbackToken) -> Int
    /// Suspends until the future is done, without reading its outcome.
    func waitUntilDone() async throws
    /// asyncio's repr, such as `<Future pending>`.
    var repr: String { get }
}

extension AnyFuture {
    /// Whether the future finished with an error (not cancellation).
    var failed: Bool { isDone && !isCancelled && ((try? exception()) ?? nil) != nil }
}

/// Identifies a done callback so it can be removed again.
public struct DoneCallbackToken: Hashable, Sendable {
    let id: UInt32
}
