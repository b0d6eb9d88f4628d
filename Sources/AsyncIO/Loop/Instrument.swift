/// An observer of the scheduler, after trio's instruments: called before and
/// after each callback or task step, around each wait for I/O, and at each
/// event that changes what the loop will run (a task created, a future
/// done, a timer scheduled, a descriptor ready). With no instrument
/// installed the loop pays a single nil test at each of these points.
@LoopActor
public protocol Instrument: AnyObject {
    func beforeIOWait(timeout: Double?)
    func afterIOWait()
    /// The loop is about to run the `readyCount` callbacks and steps now ready.
    func iterationStarted(readyCount: Int)
    func beforeRun(_ item: ReadyItemKind)
    func afterRun(_ item: ReadyItemKind)
    func taskCreated(_ task: any AnyLoopTask)
    /// `future` (a task too) just became done; its listeners are scheduled.
    func futureDone(_ future: FutureCore)
    func timerScheduled(_ timer: TimerHandle)
    func timerCancelled(_ timer: TimerHandle)
    /// A timer is due and its callback, or the sleeping task's wake-up, ready.
    func timerDue(_ item: ReadyItemKind)
    func descriptorReady(_ fd: Int32, readable: Bool, writable: Bool)
    /// Work sent by other threads (`callSoonThreadsafe`, executors) was taken.
    func wokenByOtherThreads(itemCount: Int)
}

extension Instrument {
    public func beforeIOWait(timeout: Double?) {}
    public func afterIOWait() {}
    public func iterationStarted(readyCount: Int) {}
    public func beforeRun(_ item: ReadyItemKind) {}
    public func afterRun(_ item: ReadyItemKind) {}
    public func taskCreated(_ task: any AnyLoopTask) {}
    public func futureDone(_ future: FutureCore) {}
    public func timerScheduled(_ timer: TimerHandle) {}
    public func timerCancelled(_ timer: TimerHandle) {}
    public func timerDue(_ item: ReadyItemKind) {}
    public func descriptorReady(_ fd: Int32, readable: Bool, writable: Bool) {}
    public func wokenByOtherThreads(itemCount: Int) {}
}

/// What the loop is about to run or has just run.
public enum ReadyItemKind {
    /// A callback from `callSoon`, a due timer, or I/O readiness.
    case callback(Handle)
    /// The timer of a task's `sleep`, which schedules the task's wake-up
    /// (asyncio runs a timer handle that completes the sleep's future).
    case sleepTimer((any AnyLoopTask)?)
    /// A done callback of this future (asyncio schedules it as a callback).
    case doneCallback(FutureCore)
    /// A step of a task: running it until its next suspension. The task is
    /// known once its step has run (in `afterRun`); before, not always.
    case taskStep((any AnyLoopTask)?)
}

extension EventLoop {
    /// What `instrumentNewLoops` was given.
    typealias InstrumentFactory = @Sendable @LoopActor (EventLoop) -> [any Instrument]
    static let newLoopInstruments = Locked<InstrumentFactory?>(nil)

    /// Gives every loop created from now on the instruments `make` returns
    /// for it; nil stops. How a tool traces the loops of a program it does
    /// not change, as `ASYNCIO_DEBUG` turns on debug mode for them.
    public static func instrumentNewLoops(_ make: (@Sendable @LoopActor (EventLoop) -> [any Instrument])?) {
        newLoopInstruments.withLock { $0 = make }
    }

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

extension EventLoop {
    /// What instruments are told `item` is. The task of a step is known
    /// when it was created with instruments installed, or has suspended
    /// outside AsyncIO (see `LoopTask.registerForInstruments`).
    @LoopActor
    func instrumentKind(of item: ReadyItem) -> ReadyItemKind {
        switch item {
        case .handle(let handle), .watch(let handle): .callback(handle)
        case .sleepTimer(let task): .sleepTimer(task as? any AnyLoopTask)
        case .doneCallback(let future): .doneCallback(future)
        case .job(let job): .taskStep(tasksBySwiftTask[swiftTaskID(of: job)])
        case .wakeUp(let continuation): .taskStep(tasksBySwiftTask[unsafeBitCast(continuation, to: UInt.self)])
        }
    }
}
