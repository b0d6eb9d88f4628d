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
