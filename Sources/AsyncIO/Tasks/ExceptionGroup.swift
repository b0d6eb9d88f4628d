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

    /// The errors, at any depth, that satisfy `condition`, in a group of
    /// the same shape and message; nil if none do (Python's `subgroup`).
    /// A nested group that satisfies `condition` is kept whole.
    public func subgroup(_ condition: (any Error) -> Bool) -> ExceptionGroup? {
        split(condition).match
    }

    /// The errors that satisfy `condition` and those that do not, each as a
    /// group of the same shape, nil when empty (Python's `split`, which is
    /// what `except*` does: `let (timeouts, rest) = group.split { $0 is TimeoutError }`).
    public func split(_ condition: (any Error) -> Bool) -> (match: ExceptionGroup?, rest: ExceptionGroup?) {
        if condition(self) { return (self, nil) }
        var matching: [any Error] = [], rest: [any Error] = []
        for error in errors {
            if let nested = error as? ExceptionGroup {
                let (nestedMatch, nestedRest) = nested.split(condition)
                if let nestedMatch { matching.append(nestedMatch) }
                if let nestedRest { rest.append(nestedRest) }
            } else if condition(error) {
                matching.append(error)
            } else {
                rest.append(error)
            }
        }
        return (matching.isEmpty ? nil : ExceptionGroup(message, matching),
                rest.isEmpty ? nil : ExceptionGroup(message, rest))
    }

    /// Whether any error, at any depth, satisfies `condition`.
    public func contains(where condition: (any Error) -> Bool) -> Bool {
        subgroup(condition) != nil
    }
}

/// The types of errors a group's `split` and `subgroup` match by type.
extension ExceptionGroup {
    /// `split` by type: `group.split(TimeoutError.self)`, as `except* TimeoutError`.
    public func split<E: Error>(_ type: E.Type) -> (match: ExceptionGroup?, rest: ExceptionGroup?) {
        split { $0 is E }
    }

    /// `subgroup` by type.
    public func subgroup<E: Error>(_ type: E.Type) -> ExceptionGroup? {
        subgroup { $0 is E }
    }
}
