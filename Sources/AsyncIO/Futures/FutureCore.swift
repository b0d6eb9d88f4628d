/// Everything a future does that does not depend on its result type:
/// state, listeners (done callbacks and awaiting tasks) and suspension.
/// Keeping it out of the generic `Future<T>` matters for speed: generic code
/// that is not specialized looks up type metadata at run time, and this is
/// the hottest code of the loop.
@LoopActor
public class FutureCore: AnyFuture, @LoopActor CustomStringConvertible {
    @usableFromInline
    enum Status: UInt8, Sendable { case pending, cancelled, finished, failed }

    /// Someone to tell when the future is done, in registration order. (A
    /// "waiter", in this package, is a task waiting in a primitive.)
    enum Listener {
        case callback(DoneCallbackToken, @LoopActor (FutureCore) -> Void)
        /// A task suspended until the future is done.
        case task(UnsafeContinuation<Void, Never>)
    }

    // Fields are ordered, and kept few, so that a future fits an 80-byte
    // allocation: thousands of them are alive at once.
    public nonisolated let loop: EventLoop
    /// The error of a failed future; for a cancelled one, the
    /// `CancelledError` carrying the cancel message.
    @exclusivity(unchecked) private(set) var error: (any Error)?
    /// Most futures have exactly one listener: it is kept apart from the
    /// rest so it costs no array.
    @exclusivity(unchecked) private var firstListener: Listener?
    @exclusivity(unchecked) private var moreListeners: [Listener] = []
    @exclusivity(unchecked) private(set) var status = Status.pending

    nonisolated init(loop: EventLoop) {
        self.loop = loop
    }

    deinit {
        if status == .failed { reportErrorNeverRetrieved() }
    }

    public var isDone: Bool { status != .pending }
    public var isCancelled: Bool { status == .cancelled }

    public func exception() throws -> (any Error)? {
        switch status {
        case .pending: throw InvalidStateError("Exception is not set.")
        case .cancelled: throw error!
        case .finished: return nil
        case .failed:
            errorRetrieved()
            return error
        }
    }

    /// Throws what `result()` throws for a future that did not succeed.
    @usableFromInline
    func checkSucceeded() throws {
        switch status {
        case .pending: throw InvalidStateError("Result is not ready.")
        case .cancelled: throw error!
        case .failed:
            errorRetrieved()
            throw error!
        case .finished: return
        }
    }

    func checkPending() throws {
        guard status == .pending else { throw InvalidStateError("invalid state: \(stateName)") }
    }

    // MARK: Completing

    /// Marks the future done with `error`; throws `InvalidStateError` if it
    /// is already done. Throwing `CancelledError` here is allowed but, as in
    /// asyncio, does not make the future cancelled.
    public func setException(_ error: any Error) throws {
        try checkPending()
        fail(error)
    }

    func fail(_ error: any Error) {
        self.error = error
        loop.unretrievedErrors.insert(ObjectIdentifier(self))
        finish(.failed)
    }

    /// Cancels the future and schedules its callbacks. Returns false if it
    /// was already done.
    @discardableResult
    public func cancel(message: String? = nil) -> Bool {
        guard status == .pending else { return false }
        error = CancelledError(message)
        finish(.cancelled)
        return true
    }

    @usableFromInline
    func finish(_ final: Status) {
        status = final
        if let instruments = loop.instruments { for instrument in instruments { instrument.futureDone(self) } }
        guard let first = firstListener else { return }
        if case .callback = first, moreListeners.isEmpty {
            // A lone callback stays where it is until the ready queue runs
            // it: asyncio's handle for it, without allocating one.
            loop.ready.append(.doneCallback(self))
            return
        }
        firstListener = nil
        notify(first)
        guard !moreListeners.isEmpty else { return }
        let more = moreListeners
        moreListeners = []
        for listener in more { notify(listener) }
    }

    private func notify(_ listener: Listener) {
        switch listener {
        case .callback(_, let callback):
            loop.callSoon(label: callbackLabel) { callback(self) }
        case .task(let continuation):
            // The task's next step goes to the back of the ready queue,
            // exactly where asyncio schedules the task's wake-up.
            loop.ready.append(.wakeUp(continuation))
        }
    }

    /// Runs the lone done callback that `finish` left in place.
    func runDoneCallback() {
        guard case .callback(_, let callback) = firstListener else { return }
        firstListener = nil
        callback(self)
    }

    private func addListener(_ listener: Listener) {
        if firstListener == nil, moreListeners.isEmpty {
            firstListener = listener
        } else {
            moreListeners.append(listener)
        }
    }

    // MARK: Callbacks

    /// Calls `callback` through the loop once the future is done; on the
    /// next iteration if it already is.
    @discardableResult
    func addCoreDoneCallback(_ callback: @escaping @LoopActor (FutureCore) -> Void) -> DoneCallbackToken {
        loop.doneCallbackTokens &+= 1
        let token = DoneCallbackToken(id: loop.doneCallbackTokens)
        if isDone {
            loop.callSoon(label: callbackLabel) { callback(self) }
        } else {
            addListener(.callback(token, callback))
        }
        return token
    }

    @discardableResult
    public func addDoneCallback(any callback: @escaping @LoopActor () -> Void) -> DoneCallbackToken {
        addCoreDoneCallback { _ in callback() }
    }

    /// Removes a callback added earlier; returns how many were removed.
    /// Once the future is done its callbacks are scheduled, and stay so.
    @discardableResult
    public func removeDoneCallback(_ token: DoneCallbackToken) -> Int {
        guard status == .pending else { return 0 }
        func matches(_ listener: Listener) -> Bool {
            if case .callback(let other, _) = listener { return other == token }
            return false
        }
        var removed = 0
        if let first = firstListener, matches(first) {
            firstListener = nil
            removed = 1
        }
        let before = moreListeners.count
        moreListeners.removeAll(where: matches)
        removed += before - moreListeners.count
        if firstListener == nil, !moreListeners.isEmpty {
            // Keep registration order: the oldest remaining listener goes first.
            firstListener = moreListeners.removeFirst()
        }
        return removed
    }

    // MARK: Awaiting

    /// Suspends the current task until the future is done (asyncio's
    /// `await future` without reading the outcome). Throws `CancelledError`
    /// if the task is cancelled while it waits.
    ///
    /// Inlined into the caller: a call of an async function that is not
    /// inlined costs the caller's task an executor check on entry and
    /// another on return, even when both sides are on the loop.
    @inlinable @inline(__always)
    public func waitUntilDone() async throws {
        if isDone { return }
        let task = currentTask()
        await _unsafeInheritExecutor_withUnsafeContinuation { park($0, task: task) }
        if let task, let cancelled = task.resumed() { throw cancelled }
    }

    /// Registers the suspending task to be woken when the future is done.
    @usableFromInline
    func park(_ continuation: UnsafeContinuation<Void, Never>, task: (any AwaitingTask)?) {
        addListener(.task(continuation))
        task?.suspended(on: self)
        loop.suspendedInRuntime = true
    }

    /// The timer of this task's `sleep` ran. Only a `LoopTask` sleeps; the
    /// timer and ready queues hold it as this non-generic base.
    func sleepTimerRan() {}

    // MARK: Description

    var stateName: String {
        switch status {
        case .pending: "PENDING"
        case .cancelled: "CANCELLED"
        case .finished, .failed: "FINISHED"
        }
    }

    /// The repr's words after the class name, as asyncio's `_repr_info`;
    /// `resultRepr` is called only for a successful future.
    func reprInfo(resultRepr: () -> String) -> [String] {
        switch status {
        case .pending: ["pending"]
        case .cancelled: ["cancelled"]
        case .finished: ["finished", "result=\(resultRepr())"]
        case .failed: ["finished", "exception=\(error!)"]
        }
    }

    var callbackLabel: String { "Future done callback" }

    public var repr: String { "<Future>" }
    public var description: String { repr }
}
