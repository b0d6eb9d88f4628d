import DequeModule

/// A counter of free slots (asyncio's `Semaphore`): `acquire()` takes a
/// slot, suspending while there is none, and `release()` gives one back.
/// It bounds how many tasks do something at once.
///
/// Waiters are served first come, first served; a task that arrives while
/// others wait queues behind them even if a slot is free, because that slot
/// is already promised to the first of them.
@LoopActor
public final class Semaphore: Acquirable, @LoopActor CustomStringConvertible {
    /// Free slots not yet promised to anyone. `wakeUpNext()` takes the slot
    /// for the waiter it wakes, so a woken waiter owns its slot before it
    /// even runs; if it is cancelled before it can run, it gives it back.
    private(set) var value: Int
    /// Tasks waiting for a slot, oldest first; each removes its own waiter
    /// when it resumes.
    private(set) var waiters = Deque<Waiter>()
    private var binding = LoopBinding()

    /// A semaphore with `value` free slots (default 1); `value` must not be
    /// negative.
    public nonisolated init(value: Int = 1) {
        precondition(value >= 0, "Semaphore initial value must be >= 0")
        self.value = value
    }

    /// Whether `acquire()` would suspend (asyncio's `locked()`): no slot is
    /// free, or tasks are already waiting in line.
    public var isLocked: Bool {
        value == 0 || waiters.contains { !$0.isCancelled }
    }

    /// Takes a slot, suspending until one is free and this task's turn has
    /// come. If the task is cancelled while waiting, it throws
    /// `CancelledError` and holds no slot.
    public func acquire() async throws {
        if !isLocked {
            value -= 1
            return
        }
        let waiter = try binding.makeWaiter(for: description)
        waiters.append(waiter)
        defer {
            // Waiters that arrived while slots were promised had to queue;
            // wake as many as there are slots now (asyncio 3.11.1+).
            while value > 0, wakeUpNext() {}
        }
        do {
            try await waiter.value
        } catch {
            waiters.remove(waiter)
            if waiter.isDone, !waiter.isCancelled {
                // Woken, with a slot taken for us, but cancelled before we
                // could use it: give the slot back so it is not lost.
                value += 1
            }
            throw error
        }
        waiters.remove(waiter)
    }

    /// Gives a slot back and wakes the first waiter, if any.
    public func release() {
        value += 1
        wakeUpNext()
    }

    /// Wakes the first waiter that is not done, taking a slot for it;
    /// returns false if there was none.
    @discardableResult
    private func wakeUpNext() -> Bool {
        for waiter in waiters where !waiter.isDone {
            value -= 1
            waiter.succeed()
            return true
        }
        return false
    }

    /// asyncio's repr: `<Semaphore [unlocked, value:2]>`.
    public var description: String { describe(as: "Semaphore") }

    func describe(as name: String) -> String {
        var state = isLocked ? "locked" : "unlocked, value:\(value)"
        if !waiters.isEmpty { state += ", waiters:\(waiters.count)" }
        return "<\(name) [\(state)]>"
    }
}

/// A semaphore that may not be released more often than acquired
/// (asyncio's `BoundedSemaphore`): releasing beyond the initial value
/// throws `SynchronizationError.releasedTooManyTimes`, which catches a
/// release too many, a common bug.
@LoopActor
public final class BoundedSemaphore: Acquirable, @LoopActor CustomStringConvertible {
    let semaphore: Semaphore
    /// The initial value, which `value` may never exceed.
    private let bound: Int

    public nonisolated init(value: Int = 1) {
        semaphore = Semaphore(value: value)
        bound = value
    }

    var value: Int { semaphore.value }

    /// Whether `acquire()` would suspend (asyncio's `locked()`).
    public var isLocked: Bool { semaphore.isLocked }

    /// Takes a slot, as `Semaphore.acquire()`.
    public func acquire() async throws { try await semaphore.acquire() }

    /// Gives a slot back; throws `SynchronizationError.releasedTooManyTimes`
    /// if every slot is already free.
    public func release() throws {
        guard semaphore.value < bound else { throw SynchronizationError.releasedTooManyTimes }
        semaphore.release()
    }

    public var description: String { semaphore.describe(as: "BoundedSemaphore") }
}
