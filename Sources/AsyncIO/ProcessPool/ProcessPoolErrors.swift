/// A worker of a process pool ended while the pool needed it (it crashed,
/// was killed, or exited in the middle of its work), as Python's
/// `concurrent.futures.process.BrokenProcessPool`. Every call the pool
/// held fails with it, and so does every later submission.
public struct BrokenProcessPool: Error, CustomStringConvertible, Equatable {
    public init() {}

    public var description: String {
        "A child process terminated abruptly, the process pool is not usable anymore"
    }
}

/// An error a registered function threw in a worker process, as the pool
/// gets it back: Swift cannot rebuild an arbitrary error type in another
/// process, so it carries the type's name and the error's description
/// (Python re-raises the unpickled exception, with the worker's traceback
/// as its `__cause__`).
public struct RemoteError: Error, CustomStringConvertible, Equatable, Codable {
    /// The function that threw.
    public let function: String
    /// The thrown value's type, as `String(reflecting:)` names it
    /// (`MyModule.ValidationError`).
    public let typeName: String
    /// `String(describing:)` of the thrown value.
    public let message: String

    public init(function: String, typeName: String, message: String) {
        self.function = function
        self.typeName = typeName
        self.message = message
    }

    public var description: String { "\(typeName) in \(function): \(message)" }
}

/// A call the pool could not make as asked.
public enum ProcessPoolError: Error, CustomStringConvertible, Equatable {
    /// The worker has no function registered under this name.
    case unknownFunction(String)
    /// The worker could not decode the argument, or encode the result, of
    /// the function; or the pool could not decode the result.
    case codingFailed(function: String, reason: String)
    /// The pool is bound to another loop: it serves the loop that first
    /// submitted to it.
    case boundToAnotherLoop

    public var description: String {
        switch self {
        case .unknownFunction(let name):
            "no function named '\(name)' is registered in the worker process: register it with "
                + "ProcessPoolExecutor.register before calling runWorkerIfRequested()"
        case .codingFailed(let function, let reason):
            "could not pass '\(function)' its argument or result: \(reason)"
        case .boundToAnotherLoop:
            "the process pool is bound to another event loop"
        }
    }
}
