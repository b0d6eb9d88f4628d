/// Misuse of a synchronization primitive. asyncio raises these as
/// `RuntimeError` or `ValueError`; here each has a case, so code can tell
/// them apart, and the description reads as asyncio's message does.
public enum SynchronizationError: Error, Equatable, CustomStringConvertible {
    /// `release()` of a lock that is not locked.
    case lockNotAcquired
    /// `Condition.wait()` without holding the condition's lock.
    case waitWithoutLock
    /// `Condition.notify()` without holding the condition's lock.
    case notifyWithoutLock
    /// `BoundedSemaphore.release()` beyond its initial value.
    case releasedTooManyTimes
    /// `Queue.taskDone()` called more often than items were put.
    case taskDoneTooManyTimes
    /// A primitive used on a loop other than the one it first waited on;
    /// the payload is the primitive's description.
    case boundToAnotherLoop(String)

    public var description: String {
        switch self {
        case .lockNotAcquired: "RuntimeError('Lock is not acquired.')"
        case .waitWithoutLock: "RuntimeError('cannot wait on un-acquired lock')"
        case .notifyWithoutLock: "RuntimeError('cannot notify on un-acquired lock')"
        case .releasedTooManyTimes: "ValueError('BoundedSemaphore released too many times')"
        case .taskDoneTooManyTimes: "ValueError('task_done() called too many times')"
        case .boundToAnotherLoop(let primitive): "RuntimeError('\(primitive) is bound to a different event loop')"
        }
    }
}

/// `putNowait` on a full queue (asyncio's `QueueFull`).
public struct QueueFull: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueFull()" }
}

/// `getNowait` on an empty queue (asyncio's `QueueEmpty`).
public struct QueueEmpty: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueEmpty()" }
}

/// Putting to a queue that was shut down, or getting from one that is shut
/// down and empty (Python 3.13's `QueueShutDown`).
public struct QueueShutDown: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueShutDown()" }
}
