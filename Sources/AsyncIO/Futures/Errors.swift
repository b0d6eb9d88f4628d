/// Raised inside a task at the `await` where it was suspended when the task
/// is cancelled (asyncio's `CancelledError`).
public struct CancelledError: Error, CustomStringConvertible, Equatable {
    /// The message given to `cancel(message:)`, if any.
    public var message: String?

    public init(_ message: String? = nil) { self.message = message }

    public var description: String {
        message.map { "CancelledError(\(pythonRepr($0)))" } ?? "CancelledError()"
    }
}

/// An operation did not finish before its deadline (asyncio's `TimeoutError`).
public struct TimeoutError: Error, CustomStringConvertible, Equatable {
    public init() {}
    public var description: String { "TimeoutError()" }
}

/// A future was used in a way its state does not allow: reading the result
/// of a pending future, or setting the result of a finished one.
public struct InvalidStateError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "InvalidStateError: \(message)" }
}

/// Misuse of an event loop: running it twice, or using it after `close()`.
public enum EventLoopError: Error, CustomStringConvertible, Equatable {
    case closed
    case alreadyRunning
    case anotherLoopRunning
    case closeWhileRunning
    case stoppedBeforeFutureCompleted

    public var description: String {
        switch self {
        case .closed: "Event loop is closed"
        case .alreadyRunning: "This event loop is already running"
        case .anotherLoopRunning: "Cannot run the event loop while another loop is running on this thread"
        case .closeWhileRunning: "Cannot close a running event loop"
        case .stoppedBeforeFutureCompleted: "Event loop stopped before Future completed."
        }
    }
}

/// Several errors raised together, as by `TaskGroup` (Python's `ExceptionGroup`).
public struct ExceptionGroup: Error, CustomStringConvertible {
    public var message: String
    public var errors: [any Error]

    public init(_ message: String, _ errors: [any Error]) {
        self.message = message
        self.errors = errors
    }

    public var description: String {
        let noun = errors.count == 1 ? "sub-exception" : "sub-exceptions"
        return "\(message) (\(errors.count) \(noun))"
    }
}
