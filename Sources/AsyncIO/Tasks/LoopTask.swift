/// A task of any result type: what `timeout`, `LoopTaskGroup` and
/// `currentLoopTask()` need of it.
@LoopActor
public protocol AnyLoopTask: AnyFuture {
    var name: String { get }
    func cancelling() -> Int
    @discardableResult func uncancel() -> Int
}

/// A coroutine scheduled on the loop (asyncio's `Task`, named `LoopTask` so
/// as not to shadow Swift's `Task`). It is a `Future` of the operation's
/// result. Creating it does not run it: its first step runs on a later loop
/// iteration.
///
/// Cancelling a task makes the `await` it is suspended in throw
/// `CancelledError` at once; a task cancelled before its first step never
/// runs its body. A task may catch the error and carry on.
@LoopActor
public final class LoopTask<T: Sendable>: Future<T>, AwaitingTask {
    /// The name given at creation, or `Task-<n>`; built only when asked for.
    public var name: String { labels?.name ?? "Task-\(number)" }
    /// Names the operation in reprs, as asyncio shows the coroutine.
    public var coroutine: String { labels?.coroutine ?? "closure" }
    /// Where the task was created, `File.swift:line`, shown in reprs.
    public var location: String { sourceLocation(path: String(cString: fileID), line: UInt(line)) }

    // Fields are ordered, and narrow, so that a task fits a 144-byte
    // allocation (for small results): every live task has one. The first
    // two fill the end of `Future`'s last eight bytes; the ones a task's
    // wake-up and completion touch come before the ones only reprs read.
    /// How many cancellation requests are outstanding (saturating).
    @exclusivity(unchecked) private var cancelRequests: UInt16 = 0
    private let number: UInt32
    /// Where the task sits in the loop's list of live tasks.
    @exclusivity(unchecked) private var liveIndex: Int32 = -1
    private let line: UInt32
    /// What the task is suspended on, which `cancel()` cancels, or a cancel
    /// request to deliver at its next suspension or resumption; nil while it
    /// runs, and once what it awaited is done.
    @exclusivity(unchecked) private var waitingOn: Suspension?
    @usableFromInline @exclusivity(unchecked) var swiftTaskID: UInt = 0
    /// The body, dropped once the task is done (with what it captured).
    @usableFromInline @exclusivity(unchecked) var operation: (@LoopActor () async throws -> T)?
    /// A given name and coroutine name; nil for most tasks, which have neither.
    let labels: Labels?
    /// `#fileID` of the creation site: static, NUL-terminated bytes (a
    /// `StaticString` takes 17 bytes).
    private let fileID: UnsafePointer<UInt8>

    @usableFromInline
    init(loop: EventLoop, name: String?, coroutine: String?, fileID: StaticString, line: UInt) {
        precondition(ThreadLoop.current === loop,
                     "a task can only be created on its loop's thread (use loop.withIsolation before running)")
        loop.checkOpen()
        loop.taskNameCounter += 1
        self.number = UInt32(truncatingIfNeeded: loop.taskNameCounter)
        self.labels = name == nil && coroutine == nil ? nil : Labels(name: name, coroutine: coroutine)
        self.fileID = fileID.hasPointerRepresentation ? fileID.utf8Start : ("unknown" as StaticString).utf8Start
        self.line = UInt32(truncatingIfNeeded: line)
        super.init(loop: loop)
        liveIndex = loop.liveTasks.insert(self)
        if let instruments = loop.instruments { for instrument in instruments { instrument.taskCreated(self) } }
    }

    /// Schedules the first step. The Swift task keeps this object alive
    /// until its last step, as the loop's reference does in asyncio.
    ///
    /// The Swift task enters through a closure whose only capture is this
    /// object, so the object itself is the closure's context. A method
    /// reference (`operation: runSteps`) would box it: 32 more bytes per
    /// task, allocated and freed, which costs 100,000 sleepers 7% and
    /// `Event` wake-ups 5%. The closure is typed `throws` (`runSteps` never
    /// throws) because Swift wraps a non-throwing operation in one more
    /// closure.
    @inlinable
    func start(_ operation: @escaping @LoopActor () async throws -> T) {
        self.operation = operation
        let swiftTask = Swift.Task(executorPreference: loop) { @Sendable @LoopActor [self] in try await self.runSteps() }
        if loop.instruments != nil { registerForInstruments(swiftTask) }
    }

    /// Lets instruments name the task of each step before it runs: a
    /// Swift task, the job that runs it and its continuations all wrap the
    /// same runtime object.
    @usableFromInline
    func registerForInstruments(_ swiftTask: Swift.Task<Void, any Error>) {
        swiftTaskID = unsafeBitCast(swiftTask, to: UInt.self)
        loop.tasksBySwiftTask[swiftTaskID] = self
    }

    /// The task's life: its first step, the operation, the outcome. It is
    /// kept small, as every frame of a suspended task shares the task's
    /// first memory slab and overflowing it costs each task another
    /// kilobyte. Inlinable so that it is specialized for `T` in the
    /// caller's module (unspecialized generic code costs a fifth of a
    /// task). Always inlined into the entry closure of `start`: 2.3% fewer
    /// instructions per task round trip and 1.7% per sleeper (callgrind),
    /// with the same four executor switches.
    @inlinable @inline(__always)
    func runSteps() async throws {
        guard begin(), let operation = self.operation else { return }
        do {
            let value = try await operation()
            if !cancelInsteadOfResult() { succeed(value) }
            retire()
        } catch {
            endFailing(error)
        }
    }

    /// Bookkeeping before the first step; false if the task was cancelled
    /// before it could start, in which case its body never runs.
    @usableFromInline
    func begin() -> Bool {
        assert(ThreadLoop.current === loop, "a task of one loop started on another loop's thread")
        loop.currentTask = self
        guard let request = takeCancelRequest() else { return true }
        super.cancel(message: request.message)
        retire()
        return false
    }

    /// A task cancelled during its last step ends cancelled, as in asyncio,
    /// even though its body returned.
    @usableFromInline
    func cancelInsteadOfResult() -> Bool {
        guard let request = takeCancelRequest() else { return false }
        super.cancel(message: request.message)
        return true
    }

    @usableFromInline
    func endFailing(_ error: any Error) {
        if let cancelled = error as? CancelledError {
            super.cancel(message: cancelled.message)
        } else {
            fail(error)
        }
        retire()
    }

    /// Leaves the loop's books once the task is done.
    @usableFromInline
    func retire() {
        operation = nil
        if liveIndex >= 0 {
            loop.liveTasks.remove(at: liveIndex)
            liveIndex = -1
        }
        if swiftTaskID != 0 { loop.tasksBySwiftTask[swiftTaskID] = nil }
        if loop.instruments != nil { loop.steppedTask = self }
        loop.currentTask = nil
    }

    // MARK: Cancellation

    /// Requests cancellation: the `await` the task is suspended in throws
    /// `CancelledError`. Returns false if the task is already done.
    @discardableResult
    public override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        if cancelRequests < .max { cancelRequests += 1 }
        switch waitingOn {
        case .future(let future):
            // The wake-up that follows throws the future's CancelledError,
            // which, as in asyncio, wins over any later request.
            if future.cancel(message: message) || future.isCancelled { return true }
        case .sleeping(let sequence, let continuation):
            cancelSleep(sequence, continuation, message: message)
            return true
        case .parked(let lot):
            if let continuation = lot.unpark(ObjectIdentifier(self)) {
                wakeCancelled(continuation, message: message)
                return true
            }
        case .sleepCancelled, .cancelled:
            // Woken already, to throw the CancelledError of what it awaited.
            return true
        case .cancelRequested, nil:
            break
        }
        waitingOn = .cancelRequested(CancelRequest(message: message))
        return true
    }

    /// Takes the cancel request waiting to be delivered, if any.
    private func takeCancelRequest() -> CancelRequest? {
        guard case .cancelRequested(let request) = waitingOn else { return nil }
        waitingOn = nil
        return request
    }

    /// How many cancellation requests are outstanding (asyncio's `cancelling()`).
    public func cancelling() -> Int { Int(cancelRequests) }

    /// Withdraws one cancellation request (asyncio's `uncancel()`), used by
    /// structures such as `timeout` that turn a cancellation into another error.
    @discardableResult
    public func uncancel() -> Int {
        if cancelRequests > 0 { cancelRequests -= 1 }
        if cancelRequests == 0 { _ = takeCancelRequest() }
        return Int(cancelRequests)
    }

    @usableFromInline
    func suspended(on future: FutureCore) {
        let request = takeCancelRequest()
        waitingOn = .future(future)
        if let request, !future.cancel(message: request.message) {
            waitingOn = .cancelRequested(request)
        }
    }

    @usableFromInline
    func resumed() -> CancelledError? {
        // Checked in debug builds: a step of this task must run on its own
        // loop's thread (several loops share the LoopActor executor).
        assert(ThreadLoop.current === loop, "a task of one loop resumed on another loop's thread")
        loop.currentTask = self
        defer { waitingOn = nil }
        switch waitingOn {
        case .sleepCancelled(_, let error), .cancelled(let error):
            // As asyncio: the CancelledError of what it awaited, not a later request's.
            return error as? CancelledError
        case .cancelRequested(let request):
            return CancelledError(request.message)
        case .future, .sleeping, .parked, nil:
            return nil
        }
    }

    // MARK: Sleeping

    @usableFromInline
    func sleep(_ seconds: Double, _ continuation: UnsafeContinuation<Void, Never>) {
        loop.suspendedInRuntime = true
        if let request = takeCancelRequest() {
            // A timer that could only be cancelled is not worth queueing.
            wakeCancelled(continuation, message: request.message)
            return
        }
        let sequence = loop.timers.schedule(sleeper: self, at: loop.time() + seconds)
        waitingOn = .sleeping(sequence, continuation)
    }

    // MARK: Waiting in a parking lot

    @usableFromInline
    func parking(in lot: any ParkingLot, _ continuation: UnsafeContinuation<Void, Never>) -> Bool {
        if let request = takeCancelRequest() {
            wakeCancelled(continuation, message: request.message)
            return false
        }
        waitingOn = .parked(lot)
        return true
    }

    /// Wakes the task to throw `CancelledError` from what it awaited.
    private func wakeCancelled(_ continuation: UnsafeContinuation<Void, Never>, message: String?) {
        waitingOn = .cancelled(CancelledError(message))
        loop.ready.append(.wakeUp(continuation))
    }

    /// The sleep's timer ran: the task wakes on the next iteration, as
    /// asyncio's task wakes when the sleep's future is done. A sleep
    /// cancelled meanwhile has woken the task already.
    override func sleepTimerRan() {
        switch waitingOn {
        case .sleeping(_, let continuation):
            waitingOn = nil
            loop.ready.append(.wakeUp(continuation))
        case .sleepCancelled(let sequence, _):
            loop.timers.forgetCancelledSleep(sequence)
        case .future, .parked, .cancelled, .cancelRequested, nil:
            assertionFailure("the timer of a sleep ran for a task that is not asleep")
        }
    }

    private func cancelSleep(_ sequence: UInt64, _ continuation: UnsafeContinuation<Void, Never>, message: String?) {
        loop.timers.cancelSleep(sequence)
        waitingOn = .sleepCancelled(sequence, CancelledError(message))
        loop.ready.append(.wakeUp(continuation))
    }


    // MARK: Description

    @usableFromInline func isWaiting(on future: FutureCore) -> Bool {
        if case .future(let awaited) = waitingOn { awaited === future } else { false }
    }

    @usableFromInline var traceState: String {
        switch status {
        case .finished: "done, result=\(pythonRepr(any: storedResult!))"
        case .failed: "failed, exception=\(error!)"
        case .cancelled: "cancelled" + ((error as? CancelledError)?.message.map { " (\(pythonRepr($0)))" } ?? "")
        case .pending: waitingOn.map { "waiting for \($0.traceDescription)" } ?? "ready to run again"
        }
    }

    override var callbackLabel: String { "Task done callback" }

    public override var repr: String {
        var info = reprInfo { pythonRepr(any: storedResult!) }
        if !isDone, cancelRequests > 0 { info[0] = "cancelling" }
        info.insert("name=\(pythonRepr(name))", at: 1)
        let place = isDone ? "done, defined at" : "running at"
        info.insert("coro=<\(coroutine)() \(place) \(location)>", at: 2)
        if !isDone, let awaited = waitingOn?.repr { info.append("wait_for=\(awaited)") }
        if loop.debug { info.append("created at \(location)") }
        return "<Task \(info.joined(separator: " "))>"
    }
}

// MARK: Creating tasks

extension EventLoop {
    /// Wraps `operation` in a task that starts on a later iteration
    /// (asyncio's `create_task`). `coroutine` names the operation in reprs,
    /// as asyncio names the coroutine function.
    @LoopActor @inlinable
    public func createTask<T: Sendable>(
        name: String? = nil,
        coroutine: String? = nil,
        fileID: StaticString = #fileID, line: UInt = #line,
        _ operation: @escaping @LoopActor () async throws -> T
    ) -> LoopTask<T> {
        let task = LoopTask<T>(loop: self, name: name, coroutine: coroutine, fileID: fileID, line: line)
        task.start(operation)
        return task
    }

    /// The tasks of this loop that are not done yet (asyncio's `all_tasks`).
    @LoopActor
    public func allTasks() -> [any AnyLoopTask] { liveTasks.tasks }
}

/// Creates a task on the running loop (asyncio's `asyncio.create_task`).
@LoopActor @inlinable
public func createTask<T: Sendable>(
    name: String? = nil,
    coroutine: String? = nil,
    fileID: StaticString = #fileID, line: UInt = #line,
    _ operation: @escaping @LoopActor () async throws -> T
) -> LoopTask<T> {
    runningLoop().createTask(name: name, coroutine: coroutine, fileID: fileID, line: line, operation)
}

/// The future itself if given one (asyncio's `ensure_future`).
@LoopActor
public func ensureFuture<T>(_ future: Future<T>) -> Future<T> { future }

/// Wraps an operation in a task on the running loop (asyncio's
/// `ensure_future(coroutine)`).
@LoopActor
public func ensureFuture<T: Sendable>(
    coroutine: String? = nil, fileID: StaticString = #fileID, line: UInt = #line,
    _ operation: @escaping @LoopActor () async throws -> T
) -> LoopTask<T> {
    createTask(coroutine: coroutine, fileID: fileID, line: line, operation)
}

/// The loop running on this thread (asyncio's `get_running_loop`).
@LoopActor
public func runningLoop() -> EventLoop {
    guard let loop = ThreadLoop.current else { preconditionFailure("no running event loop") }
    return loop
}

/// The task whose code is running, if any (asyncio's `current_task`).
@LoopActor
public func currentLoopTask() -> (any AnyLoopTask)? { currentTask() }

/// A task's given name and coroutine name, apart from the task itself as
/// most tasks have neither.
final class Labels: Sendable {
    let name: String?
    let coroutine: String?
    init(name: String?, coroutine: String?) {
        self.name = name
        self.coroutine = coroutine
    }
}
