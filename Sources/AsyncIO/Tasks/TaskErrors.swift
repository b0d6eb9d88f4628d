/// A scope that belongs to a loop task (`timeout`, `withLoopTaskGroup`) was
/// entered where no loop task runs: in an `async let` child, a Swift task
/// group's child or a detached task. Those are Swift tasks the loop cannot
/// cancel; the scope needs a `LoopTask` (asyncio's `RuntimeError`).
public struct NoLoopTaskError: Error, CustomStringConvertible, Equatable {
    /// What was called: `timeout()`, `withLoopTaskGroup()`.
    public var scope: String
    public init(scope: String) { self.scope = scope }
    public var description: String {
        "\(scope) must be used inside a loop task, not an async let child or a Swift task; "
            + "run the work with createTask { … } instead"
    }
}
