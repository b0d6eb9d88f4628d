/// An observer of the scheduler, after trio's instruments: called before and
/// after each callback or task step and around each wait for I/O. With no
/// instrument installed the loop pays a single nil test per item.
@LoopActor
public protocol Instrument: AnyObject {
    func beforeIOWait(timeout: Double?)
    func afterIOWait()
    func beforeRun(_ item: ReadyItemKind)
    func afterRun(_ item: ReadyItemKind)
}

extension Instrument {
    public func beforeIOWait(timeout: Double?) {}
    public func afterIOWait() {}
    public func beforeRun(_ item: ReadyItemKind) {}
    public func afterRun(_ item: ReadyItemKind) {}
}

/// What the loop is about to run or has just run.
public enum ReadyItemKind {
    /// A callback from `callSoon`, a due timer, or I/O readiness.
    case callback(Handle)
    /// The timer of a task's `sleep`, which schedules the task's wake-up
    /// (asyncio runs a timer handle that completes the sleep's future).
    case sleepTimer
    /// A done callback of this future (asyncio schedules it as a callback).
    case doneCallback(FutureCore)
    /// A step of a task: running it until its next suspension. The task is
    /// known once its step has run (in `afterRun`); before, not always.
    case taskStep((any AnyLoopTask)?)
}

extension EventLoop {
    /// Installs an instrument; it sees every later iteration.
    @LoopActor
    public func addInstrument(_ instrument: any Instrument) {
        instruments = (instruments ?? []) + [instrument]
    }

    /// Removes an instrument added earlier.
    @LoopActor
    public func removeInstrument(_ instrument: any Instrument) {
        instruments?.removeAll { $0 === instrument }
        if instruments?.isEmpty == true { instruments = nil }
    }
}

extension EventLoop.ReadyItem {
    var instrumentKind: ReadyItemKind {
        switch self {
        case .handle(let handle): .callback(handle)
        case .sleepTimer: .sleepTimer
        case .doneCallback(let future): .doneCallback(future)
        case .job, .wakeUp: .taskStep(nil)
        }
    }
}
