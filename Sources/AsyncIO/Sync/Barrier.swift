/// A meeting point for a fixed number of tasks (asyncio's `Barrier`, Python
/// 3.11): each `wait()` blocks until `parties` tasks are waiting, then all
/// go on together and the barrier can be used again.
///
/// States, as CPython's: filling (tasks arrive), draining (the last one
/// arrived; the waiting ones leave), resetting (`reset()` while tasks
/// wait: they get `BrokenBarrierError`, then the barrier fills again) and
/// broken (`abort()`: every `wait()` throws until `reset()`).
@LoopActor
public final class Barrier: @LoopActor CustomStringConvertible {
    private enum State: String { case filling, draining, resetting, broken }

    /// How many tasks must wait before all go on.
    public let parties: Int
    private let condition = Condition()
    private var state = State.filling
    /// Tasks inside `wait()`, arriving or leaving.
    private var count = 0

    public nonisolated init(parties: Int) {
        precondition(parties >= 1, "parties must be >= 1")
        self.parties = parties
    }

    /// Waits until `parties` tasks are waiting and returns this task's
    /// arrival index, 0 to `parties - 1`. Throws `BrokenBarrierError` if
    /// the barrier is broken or reset while waiting.
    @discardableResult
    public func wait() async throws -> Int {
        try await condition.withLock {
            // Tasks from the last round are still leaving.
            _ = try await condition.waitFor { state != .draining && state != .resetting }
            guard state != .broken else { throw BrokenBarrierError() }
            let index = count
            count += 1
            defer { leave() }
            if index + 1 == parties {
                state = .draining
                try condition.notifyAll()
            } else {
                _ = try await condition.waitFor { state != .filling }
                if state == .broken || state == .resetting { throw BrokenBarrierError() }
            }
            return index
        }
    }

    /// The last task out lets the next round fill.
    private func leave() {
        count -= 1
        if count == 0, state == .resetting || state == .draining {
            state = .filling
            try? condition.notifyAll()
        }
    }

    /// Returns the barrier to empty; tasks waiting get `BrokenBarrierError`.
    public func reset() async throws {
        try await condition.withLock {
            if count > 0 {
                if state != .resetting {
                    state = .resetting
                }
            } else {
                state = .filling
            }
            try condition.notifyAll()
        }
    }

    /// Breaks the barrier: waiting and later `wait()` calls throw
    /// `BrokenBarrierError` until `reset()`.
    public func abort() async throws {
        try await condition.withLock {
            state = .broken
            try condition.notifyAll()
        }
    }

    /// Tasks waiting for the barrier to fill (asyncio's `n_waiting`).
    public var waiting: Int { state == .filling ? count : 0 }

    public var isBroken: Bool { state == .broken }

    public var description: String {
        "<Barrier [\(state.rawValue), waiters:\(waiting)/\(parties)]>"
    }
}

/// A barrier was broken or reset while waiting (asyncio's `BrokenBarrierError`).
public struct BrokenBarrierError: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "BrokenBarrierError()" }
}
