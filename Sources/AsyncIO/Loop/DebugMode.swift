#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// asyncio's debug mode: on with `loop.debug = true`, `run(debug: true)` or
/// the environment variable `ASYNCIO_DEBUG` (asyncio's `PYTHONASYNCIODEBUG`)
/// set to anything but the empty string. In debug mode the loop
///
/// - logs a warning for each callback or task step that runs for
///   `slowCallbackDuration` seconds or longer: it held up everything else;
/// - stops at once when `callSoon`, `callLater`, `callAt` or `createTask`
///   is called from a thread other than the one running the loop, rather
///   than corrupting the loop's state;
/// - shows in task reprs where each task was created;
/// - warns about each transport and server the program left open when the
///   loop closes (asyncio's `ResourceWarning: unclosed …`).
///
/// Off, none of it costs more than a test of a flag.
///
/// Set `debug` and `slowCallbackDuration` before the loop runs, or from
/// its own thread.
extension EventLoop {
    public var debug: Bool {
        get { slowCallbackMonitor != nil }
        set {
            checkSetFromLoopThread()
            guard newValue != debug else { return }
            LoopActor.withLoop(self) {
                if newValue {
                    let monitor = SlowCallbackMonitor(threshold: slowCallbackThreshold)
                    slowCallbackMonitor = monitor
                    addInstrument(monitor)
                } else if let monitor = slowCallbackMonitor {
                    slowCallbackMonitor = nil
                    removeInstrument(monitor)
                }
            }
        }
    }

    /// A callback or task step that runs this long or longer is logged in
    /// debug mode (seconds; asyncio's `slow_callback_duration`).
    public var slowCallbackDuration: Double {
        get { slowCallbackThreshold }
        set {
            checkSetFromLoopThread()
            slowCallbackThreshold = newValue
            LoopActor.withLoop(self) { slowCallbackMonitor?.threshold = newValue }
        }
    }

    private func checkSetFromLoopThread() {
        precondition(state != .running || ThreadLoop.current === self,
                     "debug settings of a running loop can only be changed on its thread")
    }

    /// Whether the environment asks for debug mode, as asyncio reads
    /// `PYTHONASYNCIODEBUG` when a loop is created.
    static var debugRequestedByEnvironment: Bool {
        guard let value = getenv("ASYNCIO_DEBUG") else { return false }
        return value.pointee != 0
    }

    /// A handle's label; in debug mode with where it was made, as asyncio's
    /// debug mode shows `created at file:line` in a handle's repr.
    @LoopActor @inline(__always)
    func handleLabel(_ label: String?, _ fileID: StaticString, _ line: UInt) -> String? {
        guard _slowPath(slowCallbackMonitor != nil) else { return label }
        return "\(label ?? Handle.defaultLabel) created at \(sourceLocation(path: fileID.description, line: line))"
    }

    /// In debug mode, the loop must run on the calling thread: asyncio's
    /// `_check_thread`. A loop that is not running may be set up from any
    /// thread, as asyncio allows.
    @LoopActor
    func checkThread() {
        guard state == .running, ThreadLoop.current !== self else { return }
        preconditionFailure("Non-thread-safe operation invoked on an event loop other than the current one")
    }
}

/// Times each callback and task step; one that took `slowCallbackDuration`
/// or longer is logged as asyncio logs it: `Executing <Task …> took 0.101
/// seconds`.
@LoopActor
final class SlowCallbackMonitor: Instrument {
    var threshold: Double
    /// nil when installed after the item now running had started.
    private var started: Double?

    init(threshold: Double) { self.threshold = threshold }

    func beforeRun(_ item: ReadyItemKind) {
        started = monotonicSeconds()
    }

    func afterRun(_ item: ReadyItemKind) {
        guard let started else { return }
        self.started = nil
        let took = monotonicSeconds() - started
        guard took >= threshold else { return }
        asyncioLogger.warning("Executing \(item.repr) took \(formatSeconds(took)) seconds")
    }
}

/// `%.3f`, without Foundation.
func formatSeconds(_ seconds: Double) -> String {
    let millis = Int((seconds * 1000).rounded())
    let fraction = String(millis % 1000)
    return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

extension ReadyItemKind {
    /// What asyncio's slow-callback warning shows: the task for a task's
    /// step, else the handle.
    @LoopActor
    var repr: String {
        switch self {
        case .callback(let handle): handle.description
        case .sleepTimer(let task): "<TimerHandle sleep of \(task?.name ?? "a task")>"
        case .doneCallback(let future): "<Handle \(future.callbackLabel)>"
        case .taskStep(let task): task?.repr ?? "<Handle task step>"
        }
    }
}

/// `File.swift:12` from a `#fileID` (`Module/File.swift`) and a `#line`.
func sourceLocation(path: String, line: UInt) -> String {
    "\(path.split(separator: "/").last.map(String.init) ?? path):\(line)"
}
