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
    /// What timed out, when the runtime says (`SSL shutdown timed out`).
    public var message: String?
    public init(_ message: String? = nil) { self.message = message }
    public var description: String { message.map { "TimeoutError(\(pythonRepr($0)))" } ?? "TimeoutError()" }
}

/// A future was used in a way its state does not allow: reading the result
/// of a pending future, or setting the result of a finished one.
public struct InvalidStateError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "InvalidStateError: \(message)" }
}
