import DequeModule

/// A condition variable (asyncio's `Condition`): tasks holding its lock
/// wait until another task notifies them. `wait()` gives the lock up while
/// waiting and takes it back before returning.
///
/// ```swift
/// try await condition.withLock {           // async with condition:
///     try await condition.waitFor { ready } //     await condition.wait_for(...)
/// }
/// ```
///
/// As in asyncio, `wait()` may return without a matching notification (a
/// cancelled waiter passes its notification on, and the one it reaches may
/// have been notified already), so callers check their predicate again;
/// `waitFor` does.
@LoopActor
public final class Condition: Acquirable, @LoopActor CustomStringConvertible {
    /// The lock the condition's users hold: its own, or one given at creation.
    public let lock: Lock
    /// Tasks waiting to be notified, oldest first; each removes its own
    /// waiter when it resumes.
    private(set) var waiters = Deque<Waiter>()
    private var binding = LoopBinding()

    /// A condition over `lock`, or over a new lock of its own.
    public nonisolated init(lock: Lock? = nil) {
        self.lock = lock ?? Lock()
    }

    /// Whether the condition's lock is held (asyncio's `locked()`).
    public var isLocked: Bool { lock.isLocked }

    /// Takes the condition's lock.
    public func acquire() async throws { try await lock.acquire() }

    /// Releases the condition's lock.
    public func release() throws { try lock.release() }

    /// Releases the lock, suspends until notified, then takes the lock again
    /// before returning. Throws `SynchronizationError.waitWithoutLock` if
    /// the lock is not held.
    ///
    /// If the task is cancelled, the lock is still taken back before
    /// `CancelledError` is thrown, so the caller's `withLock` releases a
    /// lock it holds; and since the task may already have been notified, it
    /// notifies another waiter in its place.
    public func wait() async throws {
        guard isLocked else { throw SynchronizationError.waitWithoutLock }
        let waiter = try binding.makeWaiter(for: description)
        try lock.release()
        do {
            var failure: (any Error)?
            waiters.append(waiter)
            do {
                try await waiter.value
            } catch {
                failure = error
            }
            waiters.remove(waiter)
            // Take the lock back whatever happened; a cancellation meanwhile
            // is remembered and thrown once the lock is held.
            while true {
                do {
                    try await lock.acquire()
                    break
                } catch let cancelled as CancelledError {
                    failure = cancelled
                }
            }
            if let failure { throw failure }
        } catch {
            wake(1)
            throw error
        }
    }

    /// Waits until `predicate` is true, checking it first and after every
    /// wake-up; returns true. The lock must be held.
    @discardableResult
    public func waitFor(_ predicate: () throws -> Bool) async throws -> Bool {
        while try !predicate() {
            try await wait()
        }
        return true
    }

    /// Wakes up to `n` waiting tasks, oldest first. Throws
    /// `SynchronizationError.notifyWithoutLock` if the lock is not held.
    /// A woken task returns from `wait()` once it has the lock back, which
    /// is after the notifier releases it.
    public func notify(_ n: Int = 1) throws {
        guard isLocked else { throw SynchronizationError.notifyWithoutLock }
        wake(n)
    }

    /// Wakes every waiting task (asyncio's `notify_all()`).
    public func notifyAll() throws {
        try notify(waiters.count)
    }

    /// Wakes the first `n` waiters that are not done yet.
    private func wake(_ n: Int) {
        var woken = 0
        for waiter in waiters {
            if woken >= n { break }
            if !waiter.isDone {
                woken += 1
                waiter.succeed()
            }
        }
    }

    /// asyncio's repr: `<Condition [locked, waiters:2]>`.
    public var description: String {
        var state = isLocked ? "locked" : "unlocked"
        if !waiters.isEmpty { state += ", waiters:\(waiters.count)" }
        return "<Condition [\(state)]>"
    }
}
