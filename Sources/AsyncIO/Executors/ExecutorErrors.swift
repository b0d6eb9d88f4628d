/// Work submitted to an executor that was shut down (Python raises
/// `RuntimeError('cannot schedule new futures after shutdown')`).
public struct ExecutorShutdownError: Error, CustomStringConvertible, Equatable {
    public var description: String { "cannot schedule new futures after shutdown" }
}
