/// The eventual result of an operation (asyncio's `Future`): pending until
/// someone sets a result or an error, or cancels it. Awaiting `value`
/// suspends the current task until then.
@LoopActor
public class Future<T: Sendable>: FutureCore {
    @usableFromInline @exclusivity(unchecked) var storedResult: T?

    /// Creates a pending future bound to `loop`.
    public nonisolated override init(loop: EventLoop) {
        super.init(loop: loop)
    }

    /// The result; rethrows the future's error, throws `CancelledError` if
    /// cancelled and `InvalidStateError` if still pending.
    @inlinable
    public func result() throws -> T {
        try checkSucceeded()
        return storedResult!
    }

    /// Marks the future done with `value`; throws `InvalidStateError` if it
    /// is already done.
    public func setResult(_ value: T) throws {
        try checkPending()
        succeed(value)
    }

    @inlinable
    func succeed(_ value: T) {
        storedResult = value
        finish(.finished)
    }

    /// Runs `callback` with this future, through the loop, once it is done;
    /// on the next iteration if it already is.
    @discardableResult
    public func addDoneCallback(_ callback: @escaping @LoopActor (Future<T>) -> Void) -> DoneCallbackToken {
        addCoreDoneCallback { core in callback(unsafeDowncast(core, to: Future<T>.self)) }
    }

    /// Suspends the current task until the future is done, then returns its
    /// result or throws its error (asyncio's `await future`).
    @inlinable
    public var value: T {
        get async throws {
            try await waitUntilDone()
            return try result()
        }
    }

    public override var repr: String {
        "<Future \(reprInfo { pythonRepr(any: storedResult!) }.joined(separator: " "))>"
    }
}
