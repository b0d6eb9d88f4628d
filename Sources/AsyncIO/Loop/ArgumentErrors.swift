/// An argument or setting with a value that cannot be used (Python's
/// `ValueError`), with Python's message.
public struct ValueError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An argument of a kind the call cannot work with (Python's `TypeError`).
public struct TypeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
