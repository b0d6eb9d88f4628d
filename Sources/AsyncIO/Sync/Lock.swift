import DequeModule

/// A mutual-exclusion lock for tasks (asyncio's `Lock`). It is not owned by
/// a task: any code on the loop may release it.
///
/// Waiters are served first come, first served: `release()` hands the lock
/// to the task that has waited longest, and a task that arrives meanwhile
/// queues behind it rather than barging in.
///
/// A lock can be created anywhere; it binds to the running loop the first
/// time a task has to wait for it.
///
/// ```swift
/// try await lock.withLock { … }      // async with lock:
/// try await lock.acquire()           // await lock.acquire()
/// defer { try? lock.release() }      // lock.release()
/// ```
@LoopActor
public final class Lock: Acquirable, @LoopActor CustomStringConvertible {
    /// Whether some task holds the lock (asyncio's `locked()`).
    public private(set) var isLocked = false
    /// Tasks waiting for the lock, oldest first. A waiter that is done has
    /// been woken (or cancelled) and will remove itself when it runs.
    ///
    /// Invariant: when the lock is free and a waiter is queued, the first
    /// waiter is done, so someone is already on the way to take the lock
    /// (or, if cancelled, to pass the turn on). `release()` and a waiter
    /// cancelled after its wake-up both restore it.
    private(set) var waiters = Deque<Waiter>()
    private var binding = LoopBinding()

    public nonisolated init() {}

    /// Takes the lock, suspending until it is free and this task's turn
    /// has come. If the task is cancelled while waiting, it throws
    /// `CancelledError` and does not hold the lock.
    public func acquire() async throws {
        // Fast path only when no one is in line (or everyone in line has
        // been cancelled): taking it otherwise would jump the queue.
        if !isLocked, waiters.allSatisfy(\.isCancelled) {
            isLocked = true
            return
        }
        let waiter = try binding.makeWaiter(for: description)
        waiters.append(waiter)
        do {
            try await waiter.value
        } catch {
            waiters.remove(waiter)
            // Cancelled, possibly after release() chose this waiter: if the
            // lock is still free, the turn passes to the next in line, or
            // no one would ever wake them.
            if !isLocked { wakeUpFirst() }
            throw error
        }
        waiters.remove(waiter)
        isLocked = true
    }

    /// Releases the lock and wakes the first waiter. Throws
    /// `SynchronizationError.lockNotAcquired` if the lock is not locked.
    public func release() throws {
        guard isLocked else { throw SynchronizationError.lockNotAcquired }
        isLocked = false
        wakeUpFirst()
    }

    /// Wakes the first waiter unless it is already done: a woken one is on
    /// its way, a cancelled one will pass the turn on when it runs.
    private func wakeUpFirst() {
        guard let first = waiters.first, !first.isDone else { return }
        first.succeed()
    }

    /// asyncio's repr: `<Lock [locked, waiters:2]>`.
    public var description: String {
        var state = isLocked ? "locked" : "unlocked"
        if !waiters.isEmpty { state += ", waiters:\(waiters.count)" }
        return "<Lock [\(state)]>"
    }
}
