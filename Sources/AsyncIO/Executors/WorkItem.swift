import Synchronization

/// One call submitted to a thread pool: the work, and what to do if it is
/// cancelled before it starts. Its state moves once from pending to running
/// or cancelled, atomically, so a worker and a canceller never both win;
/// the winner takes the closures, so the item holds nothing afterwards
/// (the body captures the future that holds the item).
final class WorkItem: @unchecked Sendable {
    // @unchecked Sendable: `body` and `abandoned` are read and cleared only
    // by the one thread whose compare-exchange on `state` succeeded.
    private enum State: UInt8 { case pending, running, cancelled }
    private let state = Atomic<UInt8>(State.pending.rawValue)
    /// Runs the call and reports its outcome.
    private var body: (@Sendable () -> Void)?
    /// Reports that the call will never run (the pool shut down with
    /// `cancelFutures`).
    private var abandoned: (@Sendable () -> Void)?

    init(_ body: @escaping @Sendable () -> Void, abandoned: @escaping @Sendable () -> Void) {
        self.body = body
        self.abandoned = abandoned
    }

    /// On a worker: runs the body unless the item was cancelled first.
    func run() {
        guard claim(.running) else { return }
        let body = take()
        body.run?()
    }

    /// Stops the item from starting, as the awaiting side gave up; false if
    /// it has started already (it then runs to the end, unheard).
    @discardableResult
    func cancel() -> Bool {
        guard claim(.cancelled) else { return false }
        _ = take()
        return true
    }

    /// The pool will not run it: tell the awaiting side.
    func cancelFromShutdown() {
        guard claim(.cancelled) else { return }
        take().abandoned?()
    }

    private func claim(_ next: State) -> Bool {
        state.compareExchange(expected: State.pending.rawValue, desired: next.rawValue,
                              ordering: .acquiringAndReleasing).exchanged
    }

    private func take() -> (run: (@Sendable () -> Void)?, abandoned: (@Sendable () -> Void)?) {
        defer {
            body = nil
            abandoned = nil
        }
        return (body, abandoned)
    }
}
