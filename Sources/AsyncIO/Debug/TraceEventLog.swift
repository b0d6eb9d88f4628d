// FoundationEssentials has the JSON coders without ICU's data, which would
// add tens of megabytes to a statically linked binary.
import FoundationEssentials

/// What loops did, as a timeline in the Trace Event Format (the JSON that
/// Perfetto and `chrome://tracing` open): each loop is a process, with one
/// lane for its waits for I/O, one for its callbacks, and one per task
/// holding that task's steps. Timer, future and readiness events are
/// instants on the callbacks lane.
///
/// One log can record several loops; `json()` gives everything so far.
public final class TraceEventLog: Sendable {
    private struct State {
        var events: [TraceEvent] = []
        var loops = 0
    }

    private let state = Locked(State())
    private let start = monotonicSeconds()

    public init() {}

    /// A new instrument that records one loop into this log.
    @LoopActor
    public func recorder() -> any Instrument {
        let pid = state.withLock { state in
            state.loops += 1
            return state.loops
        }
        return Recorder(log: self, pid: pid)
    }

    /// The trace so far, as one JSON document.
    public func json() -> String {
        struct Document: Encodable {
            let displayTimeUnit = "ms"
            let traceEvents: [TraceEvent]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Document(traceEvents: state.withLock { $0.events }))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    fileprivate func append(_ event: TraceEvent) {
        state.withLock { $0.events.append(event) }
    }

    /// Microseconds since the log was made.
    fileprivate func now() -> Int { Int(((monotonicSeconds() - start) * 1_000_000).rounded()) }
}

/// Records one loop. Lane 1 is I/O waits, lane 2 callbacks, and each task
/// gets the next lane number when first seen.
@LoopActor
private final class Recorder: Instrument {
    private static let ioLane = 1
    private static let callbackLane = 2

    private let log: TraceEventLog
    private let pid: Int
    private var lanes: [ObjectIdentifier: Int] = [:]
    /// Lanes of tasks done, for their last step's span, which ends after.
    private var finishedLanes: [ObjectIdentifier: Int] = [:]
    private var laneCount = 0
    private var runStarted = 0
    private var waitStarted = 0
    private var waitTimeout: Double?

    init(log: TraceEventLog, pid: Int) {
        self.log = log
        self.pid = pid
        metadata("process_name", tid: 0, name: "event loop \(pid)")
        metadata("thread_name", tid: Self.ioLane, name: "select (waiting for I/O)")
        metadata("thread_name", tid: Self.callbackLane, name: "callbacks")
    }

    func beforeIOWait(timeout: Double?) {
        waitStarted = log.now()
        waitTimeout = timeout
    }

    func afterIOWait() {
        let timeout = waitTimeout.map(formatSeconds) ?? "none"
        complete("select", category: "io", tid: Self.ioLane, from: waitStarted, args: ["timeout": timeout])
    }

    func beforeRun(_ item: ReadyItemKind) { runStarted = log.now() }

    func afterRun(_ item: ReadyItemKind) {
        switch item {
        case .callback(let handle):
            complete(handle.label, category: "callback", tid: Self.callbackLane, from: runStarted)
        case .doneCallback(let future):
            complete("done callback", category: "callback", tid: Self.callbackLane, from: runStarted,
                     args: ["future": LoopTracer.name(of: future)])
        case .sleepTimer(let task):
            complete("sleep over", category: "timer", tid: Self.callbackLane, from: runStarted,
                     args: ["task": task?.name ?? "?"])
        case .taskStep(let task):
            let state = (task as? any AwaitingTask)?.traceState ?? "?"
            complete("step", category: "task", tid: task.map(lane) ?? Self.callbackLane, from: runStarted,
                     args: ["task": task?.name ?? "?", "after": state])
        }
    }

    func taskCreated(_ task: any AnyLoopTask) {
        instant("create \(task.name)", tid: lane(of: task))
    }

    func futureDone(_ future: FutureCore) {
        if let task = future as? any AnyLoopTask {
            instant("done", tid: lane(of: task), args: ["state": (task as? any AwaitingTask)?.traceState ?? "?"])
            // Its memory may go to a new task, which gets a lane of its own.
            finishedLanes[ObjectIdentifier(task)] = lanes.removeValue(forKey: ObjectIdentifier(task))
        } else {
            instant("future done", tid: Self.callbackLane, args: ["future": future.repr])
        }
    }

    func timerScheduled(_ timer: TimerHandle) {
        instant("timer scheduled", tid: Self.callbackLane,
                args: ["callback": timer.label, "in": formatSeconds(max(0, timer.when - monotonicSeconds()))])
    }

    func timerCancelled(_ timer: TimerHandle) {
        instant("timer cancelled", tid: Self.callbackLane, args: ["callback": timer.label])
    }

    func descriptorReady(_ fd: Int32, readable: Bool, writable: Bool) {
        instant("fd \(fd) ready", tid: Self.ioLane, args: ["read": "\(readable)", "write": "\(writable)"])
    }

    func wokenByOtherThreads(itemCount: Int) {
        instant("from other threads", tid: Self.ioLane, args: ["items": "\(itemCount)"])
    }

    // MARK: Events

    private func lane(of task: any AnyLoopTask) -> Int {
        if let lane = lanes[ObjectIdentifier(task)] { return lane }
        if let lane = finishedLanes.removeValue(forKey: ObjectIdentifier(task)) { return lane }
        laneCount += 1
        let lane = Self.callbackLane + laneCount
        lanes[ObjectIdentifier(task)] = lane
        metadata("thread_name", tid: lane, name: LoopTracer.nameAndCoroutine(task))
        return lane
    }

    private func metadata(_ kind: String, tid: Int, name: String) {
        log.append(TraceEvent(ph: "M", pid: pid, tid: tid, name: kind, args: ["name": name]))
    }

    private func complete(_ name: String, category: String, tid: Int, from start: Int, args: [String: String] = [:]) {
        log.append(TraceEvent(ph: "X", pid: pid, tid: tid, ts: start, dur: max(0, log.now() - start),
                              cat: category, name: name, args: args))
    }

    private func instant(_ name: String, tid: Int, args: [String: String] = [:]) {
        log.append(TraceEvent(ph: "i", pid: pid, tid: tid, ts: log.now(), s: "t", name: name, args: args))
    }
}

/// One event of the Trace Event Format: `ph` is its kind (`X` a span, `i` an
/// instant, `M` a lane's name), `ts` and `dur` microseconds.
private struct TraceEvent: Encodable {
    let ph: String
    let pid: Int
    let tid: Int
    var ts: Int?
    var dur: Int?
    var s: String?
    var cat: String?
    let name: String
    let args: [String: String]
}
