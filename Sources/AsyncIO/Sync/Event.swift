import DequeModule

/// A flag that tasks can wait for (asyncio's `Event`): `set()` wakes every
/// waiting task at once, and while it stays set, `wait()` returns at once.
///
/// An event can be created anywhere; it binds to the running loop the
/// first time a task has to wait for it.
@LoopActor
public final class Event: @LoopActor CustomStringConvertible {
    /// Whether the flag is set (asyncio's `is_set()`).
    public private(set) var isSet: Bool
    /// Tasks waiting for the flag, oldest first; each removes its own
    /// waiter when it resumes, woken or cancelled.
    private(set) var waiters = Deque<Waiter>()
    private var binding = LoopBinding()

    public nonisolated init() {
        isSet = false
    }

    /// An event whose flag starts out set, for queues' `join()`.
    nonisolated init(isSet: Bool) {
        self.isSet = isSet
    }

    /// Sets the flag and wakes every waiting task, in the order they began
    /// to wait.
    public func set() {
        guard !isSet else { return }
        isSet = true
        for waiter in waiters where !waiter.isDone {
            waiter.succeed()
        }
    }

    /// Clears the flag; later calls of `wait()` suspend until `set()`.
    public func clear() {
        isSet = false
    }

    /// Returns at once if the flag is set, else suspends until `set()` is
    /// called. Throws `CancelledError` if the task is cancelled meanwhile.
    ///
    /// Inlined into the caller, as `Future.value` is: a call costs two
    /// executor checks.
    @inlinable @inline(__always)
    public func wait() async throws {
        if isSet { return }
        let waiter = try addWaiter()
        defer { removeWaiter(waiter) }
        try await waiter.value
    }

    @usableFromInline
    func addWaiter() throws -> Waiter {
        let waiter = try binding.makeWaiter(for: description)
        waiters.append(waiter)
        return waiter
    }

    @usableFromInline
    func removeWaiter(_ waiter: Waiter) {
        waiters.remove(waiter)
    }

    /// asyncio's repr: `<Event [unset, waiters:2]>`.
    public var description: String {
        var state = isSet ? "set" : "unset"
        if !waiters.isEmpty { state += ", waiters:\(waiters.count)" }
        return "<Event [\(state)]>"
    }
}
