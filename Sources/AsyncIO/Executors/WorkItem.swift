import Synchronization

/// One call submitted to a thread pool: the work, and what to do if it is
/// cancelled before it starts. Its state moves once from pending to running
/// or cancelled, atomically, so a worker and a canceller never both win.
final class WorkItem: Sendable {
    private enum State: UInt8 { case pending, running, cancelled }
    private let state = Atomic<UInt8>(State.pending.rawValue)
    /// Runs the call and reports its outcome.
    private let body: @Sendable () -> Void
    /// Reports that the call will never run (the pool shut down with
    /// `cancelFutures`).
    private let abandoned: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void, abandoned: @escaping @Sendable () -> Void) {
        self.body = body
        self.abandoned = abandoned
    }

    /// On a worker: runs the body unless the item was cancelled first.
    func run() {
        guard claim(.running) else { return }
        body()
    }

    /// Stops the item from starting, as the awaiting side gave up; false if
    /// it has started already (it then runs to the end, unheard).
    @discardableResult
    func cancel() -> Bool { claim(.cancelled) }

    /// The pool will not run it: tell the awaiting side.
    func cancelFromShutdown() {
        if claim(.cancelled) { abandoned() }
    }

    private func claim(_ next: State) -> Bool {
        state.compareExchange(expected: State.pending.rawValue, desired: next.rawValue,
                              ordering: .acquiringAndReleasing).exchanged
    }
}
