/// A deadline for a block of code (Python 3.11's `asyncio.timeout`): when it
/// passes, the current task is cancelled, and the cancellation leaves the
/// block as `TimeoutError`.
@LoopActor
public final class Timeout {
    enum State { case entered, expiring, expired, exited }

    private let task: any AnyLoopTask
    private let loop: EventLoop
    private var state = State.entered
    private var timer: Handle?
    /// The task's outstanding cancel requests when the block began, so a
    /// cancellation from outside is never mistaken for the timeout.
    private let cancellingOnEntry: Int
    /// The loop time of the deadline; nil for none.
    public private(set) var when: Double?

    init(when: Double?, task: any AnyLoopTask) {
        self.task = task
        self.loop = task.loop
        self.cancellingOnEntry = task.cancelling()
        reschedule(when)
    }

    /// Whether the deadline passed and cancelled the block.
    public var expired: Bool { state == .expiring || state == .expired }

    /// Moves the deadline to loop time `when` (nil: none).
    public func reschedule(_ when: Double?) {
        precondition(state == .entered, "Timeout has already expired or left its block")
        self.when = when
        timer?.cancel()
        timer = nil
        guard let when else { return }
        if when <= loop.time() {
            timer = loop.callSoon(label: "timeout") { [weak self] in self?.expire() }
        } else {
            timer = loop.callAt(when, label: "timeout") { [weak self] in self?.expire() }
        }
    }

    private func expire() {
        task.cancel(message: nil)
        state = .expiring
        timer = nil
    }

    /// Ends the block with `error` (nil: success) and returns what to throw.
    func exit(_ error: (any Error)?) -> (any Error)? {
        timer?.cancel()
        timer = nil
        if state == .expiring {
            state = .expired
            if task.uncancel() <= cancellingOnEntry, error is CancelledError {
                return TimeoutError()
            }
        } else {
            state = .exited
        }
        return error
    }
}

/// Runs `body`, cancelling it if it has not finished within `delay` seconds
/// (nil: no limit), and then throws `TimeoutError`.
@LoopActor
public func timeout<T>(_ delay: Double?, _ body: (Timeout) async throws -> T) async throws -> T {
    try await timeoutAt(delay.map { runningLoop().time() + $0 }, body)
}

@LoopActor
public func timeout<T>(_ delay: Double?, _ body: () async throws -> T) async throws -> T {
    try await timeout(delay) { _ in try await body() }
}

/// Like `timeout`, with the deadline given as loop time (asyncio's `timeout_at`).
@LoopActor
public func timeoutAt<T>(_ when: Double?, _ body: (Timeout) async throws -> T) async throws -> T {
    guard let task = currentLoopTask() else { throw NoLoopTaskError(scope: "timeout()") }
    let scope = Timeout(when: when, task: task)
    let value: T
    do {
        value = try await body(scope)
    } catch {
        throw scope.exit(error)!
    }
    if let error = scope.exit(nil) { throw error }
    return value
}

/// Waits for `future`, cancelling it and throwing `TimeoutError` if it is
/// not done within `timeout` seconds (asyncio's `wait_for`, with 3.12's
/// semantics: the future has finished cancelling when this throws).
@LoopActor
public func waitFor<T>(_ future: Future<T>, timeout delay: Double?) async throws -> T {
    if let delay, delay <= 0 {
        if future.isDone { return try future.result() }
        future.cancel(message: nil)
        try? await future.waitUntilDone()
        do { return try future.result() } catch is CancelledError { throw TimeoutError() }
    }
    return try await timeout(delay) { try await future.value }
}

/// Runs `operation` as a task and waits for it as `waitFor` does.
@LoopActor
public func waitFor<T: Sendable>(
    timeout delay: Double?, fileID: StaticString = #fileID, line: UInt = #line,
    _ operation: @escaping @LoopActor () async throws -> T
) async throws -> T {
    try await waitFor(createTask(fileID: fileID, line: line, operation), timeout: delay)
}

@LoopActor
public func timeoutAt<T>(_ when: Double?, _ body: () async throws -> T) async throws -> T {
    try await timeoutAt(when) { _ in try await body() }
}
