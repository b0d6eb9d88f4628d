#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DequeModule
import Synchronization

/// A single-threaded event loop over epoll, asyncio's `AbstractEventLoop`.
///
/// Callbacks (`callSoon`, due timers, I/O readiness) and the steps of tasks
/// share one FIFO ready queue, so events happen in the order asyncio would
/// run them. The loop is the task executor of every task it starts, so a
/// task resumes on the loop thread without a hop through Swift's thread pool.
///
/// Everything but `callSoonThreadsafe` and the executor entry points must be
/// used on the loop's thread, which the `@LoopActor` isolation enforces.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: the mutable state below is touched only by the
    // thread running the loop (`@LoopActor`), except `inbox`, which has a lock.

    /// One unit of work in the ready queue.
    enum ReadyItem {
        /// A one-shot callback: `callSoon`, a timer.
        case handle(Handle)
        /// The callback of a descriptor or signal watch, kept for next time.
        case watch(Handle)
        case job(UnownedJob)
        /// A task that gave way for one iteration; its step runs in this
        /// item's place (see `yieldOnce`).
        case wakeUp(UnsafeContinuation<Void, Never>)
        /// The timer of a task in `sleep` is due (see `TimerQueue`).
        case sleepTimer(FutureCore)
        /// The lone done callback of a future that is done.
        case doneCallback(FutureCore)
    }

    /// Work handed over by other threads, drained once per iteration.
    struct Inbox {
        var items: [ReadyItem] = []
        /// A wake-up write is in flight; further senders need not write.
        var wakePending = false
        /// The loop closed: what arrives now would never run, and would keep
        /// what it captured (often the loop) alive, so it is dropped.
        var isClosed = false
    }

    enum State { case idle, running, closed }

    // Loop-thread state.
    //
    // Hot loop-thread state is marked `@exclusivity(unchecked)` here and in
    // futures, tasks and handles: it is only touched by the loop thread and
    // never through overlapping inout accesses, and Swift's dynamic
    // exclusivity check on class properties costs a fifth of a callback and
    // a tenth of a task switch.
    /// Callbacks and task steps, first in first out.
    @exclusivity(unchecked) var ready = ReadyQueue(capacity: 1024)
    @exclusivity(unchecked) var timers = TimerQueue()
    /// Immutable, so other threads may use it to wake the loop.
    let selector = Selector()
    /// One buffer every socket transport reads into before handing the bytes
    /// on; 256 KiB, asyncio's largest read.
    var receiveBuffer: UnsafeMutableRawBufferPointer {
        if let receiveBufferStorage { return receiveBufferStorage }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        receiveBufferStorage = buffer
        return buffer
    }
    private var receiveBufferStorage: UnsafeMutableRawBufferPointer?
    /// The TLS layers' shared buffers: plaintext decrypted for a streaming
    /// application (the ciphertext is still in `receiveBuffer` then), and
    /// ciphertext OpenSSL writes, handed to the socket after each call.
    /// Allocated on first use.
    var tlsBuffers: (plaintext: UnsafeMutableRawBufferPointer, ciphertext: UnsafeMutableRawBufferPointer) {
        if let tlsBufferStorage {
            return (UnsafeMutableRawBufferPointer(rebasing: tlsBufferStorage[..<Self.tlsPlaintextSize]),
                    UnsafeMutableRawBufferPointer(rebasing: tlsBufferStorage[Self.tlsPlaintextSize...]))
        }
        tlsBufferStorage = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.tlsPlaintextSize + Self.tlsCiphertextSize,
                                                                  alignment: 16)
        return self.tlsBuffers
    }
    private var tlsBufferStorage: UnsafeMutableRawBufferPointer?
    /// Two TLS records: SSL_read returns at most one.
    private static let tlsPlaintextSize = 32 * 1024
    /// A 64 KiB write's records and their overhead, sent in one piece.
    private static let tlsCiphertextSize = 80 * 1024
    /// Callbacks for Unix signals, and the pipe the signal handler writes to.
    var signals = SignalWatch()
    /// Child processes not yet reaped.
    var childWatcher = ChildWatcher()
    /// The default executor for blocking work.
    var executors = DefaultExecutorState()
    /// A trim of the heap waiting out `MemoryRelease.minimumInterval`.
    var deferredMemoryRelease: TimerHandle?
    /// Descriptors watched for readiness, with their callbacks.
    @exclusivity(unchecked) var watches: [Int32: FDWatch] = [:]
    @exclusivity(unchecked) var state = State.idle
    @exclusivity(unchecked) var stopping = false
    /// Iterations run since the last `epoll_wait`.
    @exclusivity(unchecked) var iterationsSincePoll = 0
    static let maxIterationsWithoutPoll = 16
    @exclusivity(unchecked) var taskNameCounter = 0
    /// Numbers done callbacks so they can be removed; kept here rather than
    /// in every future.
    @exclusivity(unchecked) var doneCallbackTokens: UInt32 = 0
    var exceptionHandler: (@LoopActor (EventLoop, ExceptionContext) -> Void)?
    /// Observers of the scheduler; nil when none, so the hot path pays one test.
    @usableFromInline @exclusivity(unchecked) var instruments: [any Instrument]?
    /// The task whose step just ran, kept for instruments only.
    @exclusivity(unchecked) var steppedTask: (any AwaitingTask)?
    /// Failed futures whose error nobody has read yet (see NeverRetrieved.swift).
    var unretrievedErrors = Set<ObjectIdentifier>()
    /// Debug mode's instrument; nil when debug mode is off.
    @exclusivity(unchecked) var slowCallbackMonitor: SlowCallbackMonitor?
    var slowCallbackThreshold = 0.1
    /// Transports still connected, ended if the loop closes first.
    @exclusivity(unchecked) var openResources = OpenResources()
    /// Tasks not yet done, for `allTasks()` and for cancelling what is left.
    @exclusivity(unchecked) var liveTasks = LiveTasks()
    /// The task whose step is running now (see `currentTask()`).
    @exclusivity(unchecked) var currentTask: (any AwaitingTask)?
    /// Set by AsyncIO's own suspension points, so the loop can tell when a
    /// task step ended somewhere else.
    @exclusivity(unchecked) var suspendedInRuntime = false
    /// Tasks that suspended outside AsyncIO, by their Swift task (see
    /// `swiftTaskID`), to find the current one after they resume.
    @exclusivity(unchecked) var tasksBySwiftTask: [UInt: any AwaitingTask] = [:]

    let inbox = Locked(Inbox())
    /// How many items the inbox holds, readable without taking its lock.
    let inboxCount = Atomic<Int>(0)
    /// Set while a `wakeUp` item resumes its task, so the job the resumption
    /// enqueues is run in place rather than queued behind everything else.
    @exclusivity(unchecked) var capturingWakeUp = false
    @exclusivity(unchecked) var capturedJob: UnownedJob?

    public init() {
        EventLoop.registry.withLock { $0.created(self) }
        asyncioLogger.debug("Using selector: EpollSelector")
        if EventLoop.debugRequestedByEnvironment { debug = true }
        if let make = EventLoop.newLoopInstruments.withLock({ $0 }) {
            LoopActor.withLoop(self) { for instrument in make(self) { addInstrument(instrument) } }
        }
    }

    deinit {
        if state != .closed, slowCallbackMonitor != nil {
            asyncioLogger.warning("ResourceWarning: unclosed event loop <EventLoop running=False closed=False debug=True>")
        }
        EventLoop.registry.withLock { $0.forget(self) }
        receiveBufferStorage?.deallocate()
        tlsBufferStorage?.deallocate()
    }

    /// The loop running on the calling thread, if any (asyncio's `get_running_loop`).
    public static var running: EventLoop? { ThreadLoop.current }

    /// The loop's clock in seconds, monotonic (asyncio's `loop.time()`).
    public nonisolated func time() -> Double { monotonicSeconds() }

    public var isRunning: Bool { state == .running }
    public var isClosed: Bool { state == .closed }

    // MARK: Scheduling callbacks

    /// Runs `callback` on a later iteration, after everything already
    /// scheduled (asyncio's `call_soon`).
    @LoopActor @discardableResult
    public func callSoon(label: String? = nil, fileID: StaticString = #fileID, line: UInt = #line,
                         _ callback: consuming @escaping @LoopActor () throws -> Void) -> Handle {
        checkOpen()
        // The callback is taken owned, and the queue moves its items rather
        // than copying them: no reference count is spent that the handle's
        // life does not need. A handle without a label stores no string.
        let handle = _fastPath(label == nil && slowCallbackMonitor == nil)
            ? Handle(callback) : Handle.make(label: handleLabel(label, fileID, line), callback)
        ready.append(.handle(handle))
        return handle
    }

    /// Runs `callback` once `delay` seconds have passed (asyncio's `call_later`).
    @LoopActor @discardableResult
    public func callLater(_ delay: Double, label: String? = nil, fileID: StaticString = #fileID, line: UInt = #line,
                          _ callback: consuming @escaping @LoopActor () throws -> Void) -> TimerHandle {
        callAt(time() + delay, label: label, fileID: fileID, line: line, callback)
    }

    /// Runs `callback` when the loop's clock reaches `when` (asyncio's `call_at`).
    @LoopActor @discardableResult
    public func callAt(_ when: Double, label: String? = nil, fileID: StaticString = #fileID, line: UInt = #line,
                       _ callback: consuming @escaping @LoopActor () throws -> Void) -> TimerHandle {
        checkOpen()
        let handle = TimerHandle(when: when, loop: self, label: handleLabel(label, fileID, line), callback)
        timers.schedule(handle)
        if let instruments { for instrument in instruments { instrument.timerScheduled(handle) } }
        return handle
    }

    /// Schedules `callback` from any thread and wakes the loop if it sleeps
    /// (asyncio's `call_soon_threadsafe`).
    @discardableResult
    public func callSoonThreadsafe(label: String? = nil,
                                   _ callback: @escaping @Sendable @LoopActor () throws -> Void) -> Handle {
        let handle = Handle.make(label: label, callback)
        enqueueFromAnyThread(.handle(handle))
        return handle
    }

    @LoopActor
    func timerCancelled() { timers.noteCancelled() }

    /// Always inlined: `callSoon` and task creation run it every time.
    @LoopActor @inline(__always)
    func checkOpen() {
        precondition(state != .closed, "Event loop is closed")
        if _slowPath(slowCallbackMonitor != nil) { checkThread() }
    }

    // MARK: Exceptions

    /// Sets the function that receives errors nothing else can handle, such
    /// as one thrown by a callback; nil restores the default, which logs.
    @LoopActor
    public func setExceptionHandler(_ handler: (@LoopActor (EventLoop, ExceptionContext) -> Void)?) {
        exceptionHandler = handler
    }

    /// Reports an error through the exception handler (asyncio's
    /// `call_exception_handler`). A failing handler is logged, never raised.
    @LoopActor
    public func callExceptionHandler(_ context: ExceptionContext) {
        if let exceptionHandler {
            exceptionHandler(self, context)
        } else {
            defaultExceptionHandler(context)
        }
    }
}

extension LoopActor {
    /// Runs `body` as loop-isolated code; the caller must be on a loop thread.
    static func assumeIsolated<T>(_ body: @LoopActor () throws -> T) rethrows -> T {
        typealias Nonisolated = () throws -> T
        LoopDispatcher.shared.checkIsolated()
        return try withoutActuallyEscaping(body) { body in
            try unsafeBitCast(body, to: Nonisolated.self)()
        }
    }
}
