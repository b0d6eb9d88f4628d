/// An instrument that describes, one line per event, what the loop does:
/// each iteration, each wait for I/O and its timeout, each callback and task
/// step it runs and where the task stands after it, tasks created, futures
/// done and the tasks they wake, timers, ready descriptors and work from
/// other threads. Lines start with `[loop]`, so they read apart from the
/// program's own output when both go to one stream.
///
/// The format is stable, for learners and for golden tests:
///
///     [loop] iteration 2: 1 ready
///     [loop] run Task-1 (main)
///     [loop] create Task-2 (inner) at Debugging.swift:54
///     [loop] Task-1 -> waiting for <Task pending name='Task-2' …>
///     [loop] select timeout=0.100
@LoopActor
public final class LoopTracer: Instrument {
    /// Unowned: the loop holds its instruments.
    private unowned let loop: EventLoop
    private let emit: (String) -> Void
    private var iteration = 0

    /// Traces `loop`, giving each line to `emit` (without a newline).
    public init(loop: EventLoop, emit: @escaping (String) -> Void) {
        self.loop = loop
        self.emit = emit
    }

    private func line(_ text: String) { emit("[loop] " + text) }

    public func beforeIOWait(timeout: Double?) {
        line("select timeout=\(timeout.map(formatSeconds) ?? "none")")
    }

    public func iterationStarted(readyCount: Int) {
        iteration += 1
        line("iteration \(iteration): \(readyCount) ready")
    }

    public func beforeRun(_ item: ReadyItemKind) {
        switch item {
        case .callback(let handle): line("run \(handle is TimerHandle ? "timer" : "callback"): \(handle.label)")
        case .doneCallback(let future): line("run done callback of \(Self.name(of: future))")
        case .sleepTimer(let task): line("wake \(task?.name ?? "a task") from its sleep")
        case .taskStep(let task): line("run \(task.map(Self.nameAndCoroutine) ?? "a task's step")")
        }
    }

    public func afterRun(_ item: ReadyItemKind) {
        guard case .taskStep(let task?) = item, let task = task as? any AwaitingTask else { return }
        let wakes = task.isDone ? (task as? FutureCore).map(wakes(waitingOn:)) ?? "" : ""
        line("\(task.name) -> \(task.traceState)\(wakes)")
    }

    /// `, wakes Task-1, Task-3`: the tasks suspended until `future` is done.
    private func wakes(waitingOn future: FutureCore) -> String {
        let woken = loop.liveTasks.tasks.compactMap { $0 as? any AwaitingTask }.filter { $0.isWaiting(on: future) }
        return woken.isEmpty ? "" : ", wakes \(woken.map(\.name).joined(separator: ", "))"
    }

    public func taskCreated(_ task: any AnyLoopTask) {
        let location = (task as? any TaskLocation).map { " at \($0.location)" } ?? ""
        line("create \(Self.nameAndCoroutine(task))\(location)")
    }

    public func futureDone(_ future: FutureCore) {
        // A task's end is told in the line after its last step.
        guard !(future is any AnyLoopTask) else { return }
        line("future done: \(future.repr)\(wakes(waitingOn: future))")
    }

    public func timerScheduled(_ timer: TimerHandle) {
        line("timer in \(formatSeconds(max(0, timer.when - loop.time())))s: \(timer.label)")
    }

    public func timerCancelled(_ timer: TimerHandle) {
        line("timer cancelled: \(timer.label)")
    }

    public func timerDue(_ item: ReadyItemKind) {
        switch item {
        case .callback(let handle): line("timer due: \(handle.label)")
        case .sleepTimer(let task): line("sleep over: \(task?.name ?? "a task")")
        case .doneCallback, .taskStep: break
        }
    }

    public func descriptorReady(_ fd: Int32, readable: Bool, writable: Bool) {
        let ways = [readable ? "read" : nil, writable ? "write" : nil].compactMap { $0 }
        line("fd \(fd) ready: \(ways.isEmpty ? "nothing watched" : ways.joined(separator: "+"))")
    }

    public func wokenByOtherThreads(itemCount: Int) {
        line("from other threads: \(itemCount) item\(itemCount == 1 ? "" : "s")")
    }

    static func nameAndCoroutine(_ task: any AnyLoopTask) -> String {
        guard let named = task as? any TaskLocation, let coroutine = named.coroutineName else { return task.name }
        return "\(task.name) (\(coroutine))"
    }

    static func name(of future: FutureCore) -> String {
        (future as? any AnyLoopTask)?.name ?? future.repr
    }
}

/// Where a task was created and what its coroutine is called, for traces.
@LoopActor
protocol TaskLocation {
    var location: String { get }
    /// The coroutine name given at creation, if any.
    var coroutineName: String? { get }
}

extension LoopTask: TaskLocation {
    var coroutineName: String? { labels?.coroutine }
}
