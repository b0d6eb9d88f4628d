// How a task meets what it awaits: the interface futures, `sleep` and
// `Event` use to suspend the current task, and what the task records about
// its suspension so that cancelling it can wake it.
//
// Every AsyncIO suspension point calls
// `_unsafeInheritExecutor_withUnsafeContinuation` itself, inlined into the
// caller. `withUnsafeContinuation` would check the executor around the
// suspension, a switch from the loop to the loop, and each switch takes a
// lock on the task's status because tasks prefer the loop as their
// executor. A helper wrapping the call costs one more switch where it
// returns, so there is none.

/// What a future needs to know about the task awaiting it.
@LoopActor @usableFromInline
protocol AwaitingTask: AnyLoopTask {
    /// The Swift task running this task's steps, once a step has ended
    /// outside AsyncIO (0 until then).
    var swiftTaskID: UInt { get set }
    /// The task is about to suspend until `future` is done.
    func suspended(on future: FutureCore)
    /// Suspends the task for `seconds`: its `sleep`.
    func sleep(_ seconds: Double, _ continuation: UnsafeContinuation<Void, Never>)
    /// The task is about to wait in `lot`, which will resume
    /// `continuation`; false if a pending cancel request wakes it at once
    /// instead, and it must not be queued.
    func parking(in lot: any ParkingLot, _ continuation: UnsafeContinuation<Void, Never>) -> Bool
    /// The task resumed; returns the `CancelledError` to throw if it was
    /// cancelled while suspended, or before it could run.
    func resumed() -> CancelledError?
    /// Whether the task is suspended until `future` is done.
    func isWaiting(on future: FutureCore) -> Bool
    /// Where the task stands, for a trace: `waiting for <Future pending>`,
    /// `done, result=3`, `cancelled`.
    var traceState: String { get }
}

/// The task whose step is running. The loop remembers it from the task's
/// first step and each resumption at an AsyncIO suspension point, and
/// forgets it when the step ends. A task that suspended anywhere else (a
/// Swift `Task.yield()`, an actor hop) is registered by its Swift task when
/// that step ends, and found that way after it resumes.
@LoopActor @usableFromInline @inline(__always)
func currentTask() -> (any AwaitingTask)? {
    guard let loop = ThreadLoop.current else { return nil }
    if let task = loop.currentTask { return task }
    return withUnsafeCurrentTask { swiftTask in swiftTask.flatMap { loop.tasksBySwiftTask[swiftTaskID(of: $0)] } }
}

// The runtime's object behind a Swift task, as a number, from the job that
// runs its steps or from inside it. Both wrap the same object (a task is
// the job that runs it). It is taken from the job, and only when a step
// ends outside AsyncIO, so most tasks never pay for it. It is not recorded
// with `withUnsafeCurrentTask` at each task's first step: that type is
// resilient, every copy goes through value witnesses, and the recording
// costs 13% of a task round trip.

@usableFromInline @inline(__always)
func swiftTaskID(of job: UnownedJob) -> UInt { unsafeBitCast(job, to: UInt.self) }

@usableFromInline
func swiftTaskID(of task: UnsafeCurrentTask) -> UInt { unsafeBitCast(task, to: UInt.self) }

/// Where tasks wait for something that is not a future, without one of
/// their own: an `Event`'s queue, and any new kind of wait (a process
/// exit, an executor result). The task parks with its continuation
/// (`AwaitingTask.parking(in:_:)`); the lot resumes it when the wait is
/// over. Cancelling the task calls `unpark`, the abort action: it takes the
/// task out and hands back its continuation, or returns nil if the task was
/// woken already and its wake-up is on its way.
@LoopActor @usableFromInline
protocol ParkingLot: AnyObject {
    func unpark(_ task: ObjectIdentifier) -> UnsafeContinuation<Void, Never>?
}

/// What a suspended task waits for. A sleep has no future of its own: the
/// task is itself the sleep's timer.
@LoopActor
enum Suspension {
    case future(FutureCore)
    /// In `sleep`, until the timer with this sequence number runs.
    case sleeping(UInt64, UnsafeContinuation<Void, Never>)
    /// A cancelled sleep: the task's wake-up is queued, and it will throw this.
    case sleepCancelled(UInt64, any Error)
    /// Waiting in a parking lot, such as an `Event`'s queue.
    case parked(any ParkingLot)
    /// Cancelled while parked: the task's wake-up is queued, and it will throw this.
    case cancelled(any Error)
    /// Not suspended in a runtime await, but asked to cancel: delivered at
    /// the next one, or when the task resumes (asyncio's `_must_cancel`).
    case cancelRequested(CancelRequest)

    /// What a trace says the task waits for.
    var traceDescription: String {
        switch self {
        case .future(let future): future.repr
        case .sleeping: "its sleep"
        case .parked(let lot): "\(type(of: lot))"
        case .sleepCancelled, .cancelled: "its cancellation"
        case .cancelRequested: "its next await (cancel requested)"
        }
    }

    /// What asyncio shows as the task's `wait_for`.
    var repr: String? {
        switch self {
        case .future(let future): future.repr
        case .sleeping, .parked: "<Future pending>"
        case .sleepCancelled, .cancelled: "<Future cancelled>"
        case .cancelRequested: nil
        }
    }
}

/// A cancel request waiting for the task's next suspension or resumption;
/// a class, so that it keeps `Suspension` at sixteen bytes.
final class CancelRequest: Sendable {
    let message: String?
    init(message: String?) { self.message = message }
}
