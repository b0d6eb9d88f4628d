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

/// An error from `addSignalHandler` (Python raises ValueError/RuntimeError).
public struct SignalError: Error, CustomStringConvertible {
    public var signal: Int32
    public var reason: String
    public var description: String { "cannot handle signal \(signal): \(reason)" }
}
