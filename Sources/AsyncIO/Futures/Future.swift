/// The eventual result of an operation (asyncio's `Future`): pending until
/// someone sets a result or an error, or cancels it. Awaiting `value`
/// suspends the current task until then.
@LoopActor
public class Future<T: Sendable>: AnyFuture, @LoopActor CustomStringConvertible {
    enum State {
        case pending
        case cancelled(message: String?)
        case finished(Result<T, any Error>)
    }

    /// Someone to tell when the future is done, in registration order.
    private enum Waiter {
        case callback(DoneCallbackToken, @LoopActor (Future<T>) -> Void)
        /// A task suspended in `value`.
        case task(UnsafeContinuation<Result<T, any Error>, Never>)
        /// A task suspended in `waitUntilDone`.
        case doneOnly(UnsafeContinuation<Void, Never>)
    }

    public nonisolated let loop: EventLoop
    private(set) var state = State.pending
    /// Most futures have exactly one waiter: it is kept apart from the rest
    /// so it costs no array.
    private var firstWaiter: Waiter?
    private var moreWaiters: [Waiter] = []
    private var nextToken: UInt32 = 0

    /// Creates a pending future bound to `loop`.
    public nonisolated init(loop: EventLoop) {
        self.loop = loop
    }

    public var isDone: Bool {
        if case .pending = state { return false }
        return true
    }

    public var isCancelled: Bool {
        if case .cancelled = state { return true }
        return false
    }

    // MARK: Reading the outcome

    /// The result; rethrows the future's error, throws `CancelledError` if
    /// cancelled and `InvalidStateError` if still pending.
    public func result() throws -> T {
        switch state {
        case .pending: throw InvalidStateError("Result is not ready.")
        case .cancelled(let message): throw CancelledError(message)
        case .finished(let result): return try result.get()
        }
    }

    public func exception() throws -> (any Error)? {
        switch state {
        case .pending: throw InvalidStateError("Exception is not set.")
        case .cancelled(let message): throw CancelledError(message)
        case .finished(.success): return nil
        case .finished(.failure(let error)): return error
        }
    }

    // MARK: Completing

    /// Marks the future done with `value`; throws `InvalidStateError` if it
    /// is already done.
    public func setResult(_ value: T) throws {
        guard case .pending = state else { throw InvalidStateError("invalid state: \(stateName)") }
        finish(.finished(.success(value)))
    }

    /// Marks the future done with `error`; throws `InvalidStateError` if it
    /// is already done. Throwing `CancelledError` here is allowed but, as in
    /// asyncio, does not make the future cancelled.
    public func setException(_ error: any Error) throws {
        guard case .pending = state else { throw InvalidStateError("invalid state: \(stateName)") }
        finish(.finished(.failure(error)))
    }

    /// Cancels the future and schedules its callbacks. Returns false if it
    /// was already done.
    @discardableResult
    public func cancel(message: String? = nil) -> Bool {
        guard case .pending = state else { return false }
        finish(.cancelled(message: message))
        return true
    }

    func finish(_ final: State) {
        state = final
        guard let first = firstWaiter else { return }
        firstWaiter = nil
        notify(first)
        guard !moreWaiters.isEmpty else { return }
        let more = moreWaiters
        moreWaiters = []
        for waiter in more { notify(waiter) }
    }

    private func addWaiter(_ waiter: Waiter) {
        if firstWaiter == nil, moreWaiters.isEmpty {
            firstWaiter = waiter
        } else {
            moreWaiters.append(waiter)
        }
    }

    private func notify(_ waiter: Waiter) {
        switch waiter {
        case .callback(_, let callback):
            loop.callSoon(label: callbackLabel) { callback(self) }
        case .task(let continuation):
            // Resuming puts the task's next step at the back of the ready
            // queue, exactly where asyncio schedules the task's wake-up.
            continuation.resume(returning: outcome)
        case .doneOnly(let continuation):
            continuation.resume()
        }
    }

    private var outcome: Result<T, any Error> {
        switch state {
        case .pending: preconditionFailure("outcome of a pending future")
        case .cancelled(let message): .failure(CancelledError(message))
        case .finished(let result): result
        }
    }

    // MARK: Callbacks

    /// Runs `callback` with this future, through the loop, once it is done;
    /// at once (on the next iteration) if it already is.
    @discardableResult
    public func addDoneCallback(_ callback: @escaping @LoopActor (Future<T>) -> Void) -> DoneCallbackToken {
        nextToken &+= 1
        let token = DoneCallbackToken(id: nextToken)
        if isDone {
            loop.callSoon(label: callbackLabel) { callback(self) }
        } else {
            addWaiter(.callback(token, callback))
        }
        return token
    }

    @discardableResult
    public func addDoneCallback(any callback: @escaping @LoopActor () -> Void) -> DoneCallbackToken {
        addDoneCallback { _ in callback() }
    }

    /// Removes a callback added earlier; returns how many were removed.
    @discardableResult
    public func removeDoneCallback(_ token: DoneCallbackToken) -> Int {
        func matches(_ waiter: Waiter) -> Bool {
            if case .callback(let other, _) = waiter { return other == token }
            return false
        }
        var removed = 0
        if let first = firstWaiter, matches(first) {
            firstWaiter = nil
            removed = 1
        }
        let before = moreWaiters.count
        moreWaiters.removeAll(where: matches)
        removed += before - moreWaiters.count
        if firstWaiter == nil, !moreWaiters.isEmpty {
            // Keep registration order: the oldest remaining waiter goes first.
            firstWaiter = moreWaiters.removeFirst()
        }
        return removed
    }

    // MARK: Awaiting

    /// Suspends the current task until the future is done, then returns its
    /// result or throws its error (asyncio's `await future`).
    public var value: T {
        get async throws {
            if case .finished(let result) = state { return try result.get() }
            if case .cancelled(let message) = state { throw CancelledError(message) }
            let task = currentTask()
            let outcome = await withUnsafeContinuation { continuation in
                addWaiter(.task(continuation))
                task?.suspended(on: self)
            }
            if let task, let cancelled = task.resumed() { throw cancelled }
            return try outcome.get()
        }
    }

    public func waitUntilDone() async throws {
        if isDone { return }
        let task = currentTask()
        await withUnsafeContinuation { continuation in
            addWaiter(.doneOnly(continuation))
            task?.suspended(on: self)
        }
        if let task, let cancelled = task.resumed() { throw cancelled }
    }

    // MARK: Description

    var stateName: String {
        switch state {
        case .pending: "PENDING"
        case .cancelled: "CANCELLED"
        case .finished: "FINISHED"
        }
    }

    /// The part of the repr after the class name, as asyncio's `_repr_info`.
    var reprInfo: [String] {
        switch state {
        case .pending: ["pending"]
        case .cancelled: ["cancelled"]
        case .finished(.success(let value)): ["finished", "result=\(pythonRepr(any: value))"]
        case .finished(.failure(let error)): ["finished", "exception=\(error)"]
        }
    }

    var callbackLabel: String { "Future done callback" }

    public var repr: String { "<Future \(reprInfo.joined(separator: " "))>" }
    public var description: String { repr }
}
