import Logging

/// What went wrong, for the loop's exception handler (asyncio's context dict).
@LoopActor
public struct ExceptionContext {
    public var message: String
    public var error: (any Error)?
    public var handle: Handle?
    public var future: (any AnyFuture)?
    public var task: (any AnyLoopTask)?
    /// The repr of a future that is being freed, which cannot be handed
    /// on itself (for "Task exception was never retrieved").
    public var futureRepr: String?

    public init(message: String, error: (any Error)? = nil, handle: Handle? = nil,
                future: (any AnyFuture)? = nil, task: (any AnyLoopTask)? = nil, futureRepr: String? = nil) {
        self.message = message
        self.error = error
        self.handle = handle
        self.future = future
        self.task = task
        self.futureRepr = futureRepr
    }
}

/// The runtime's logger, as asyncio logs to `logging.getLogger("asyncio")`.
/// Made on each use, so it follows `LoggingSystem.bootstrap` even when the
/// program bootstraps after the runtime has logged; the runtime logs rarely.
var asyncioLogger: Logger { Logger(label: "asyncio") }

extension EventLoop {
    /// Logs the context the way asyncio's default handler does: the message,
    /// then one line for each thing involved.
    @LoopActor
    public func defaultExceptionHandler(_ context: ExceptionContext) {
        var lines = [context.message]
        if let handle = context.handle { lines.append("handle: \(handle)") }
        if let future = context.future { lines.append("future: \(future.repr)") }
        if let futureRepr = context.futureRepr { lines.append("future: \(futureRepr)") }
        if let task = context.task { lines.append("task: \(task.repr)") }
        if let error = context.error { lines.append("error: \(error)") }
        asyncioLogger.error("\(lines.joined(separator: "\n"))")
    }
}
