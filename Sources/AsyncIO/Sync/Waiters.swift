import DequeModule

/// A task suspended in a primitive waits on one of these; the primitive
/// wakes it by completing the future. Because it is an ordinary future,
/// cancelling the waiting task cancels it, and the await throws
/// `CancelledError` at once, as in asyncio. It is not generic, so making
/// and freeing one never looks up type metadata.
@usableFromInline @LoopActor
final class Waiter: FutureCore {
    func succeed() { finish(.finished) }

    /// Suspends until woken; throws `CancelledError` if cancelled instead.
    /// Inlined: one more frame would overflow a waiting task's first memory
    /// slab and cost it another kilobyte.
    @usableFromInline
    var value: Void {
        @inlinable @inline(__always) get async throws {
            try await waitUntilDone()
            try checkSucceeded()
        }
    }

    override var repr: String { "<Future \(reprInfo { "None" }.joined(separator: " "))>" }
}

/// The loop a primitive belongs to. As asyncio's `_LoopBoundMixin`, a
/// primitive can be created anywhere, before any loop runs, and is bound to
/// the running loop the first time it has to wait; from then on, waiting on
/// another loop is an error.
struct LoopBinding {
    private(set) var loop: EventLoop?

    /// A new waiter on the running loop, binding to it on first use.
    @LoopActor
    mutating func makeWaiter(for owner: @autoclosure () -> String) throws -> Waiter {
        Waiter(loop: try bind(owner: owner()))
    }

    /// The running loop, to which the primitive is bound from now on.
    @LoopActor
    mutating func bind(owner: @autoclosure () -> String) throws -> EventLoop {
        let running = runningLoop()
        if let loop {
            guard loop === running else { throw SynchronizationError.boundToAnotherLoop(owner()) }
        } else {
            loop = running
        }
        return running
    }
}

extension Deque where Element == Waiter {
    /// Removes `waiter` if it is still queued. A waiter that wakes up
    /// usually removes itself from the front, so that is looked at first.
    @LoopActor
    mutating func remove(_ waiter: Waiter) {
        if first === waiter {
            removeFirst()
        } else if let index = firstIndex(where: { $0 === waiter }) {
            remove(at: index)
        }
    }
}
