#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The isolation of code that runs on an event loop.
///
/// Everything asyncio does on "the loop thread" — futures, tasks, handles,
/// callbacks — is `@LoopActor` here, so the compiler checks that it only
/// runs there. The actor's executor is not one loop but the loop running on
/// the current thread: one loop per thread, as in asyncio, and several
/// threads may each run their own loop.
@globalActor
public actor LoopActor {
    private static let instance = LoopActor()

    /// The one instance. `readnone` tells the optimizer that every read
    /// gives the same actor, so that a caller's executor hops around an
    /// inlined `@LoopActor` call (a queue `put`, a lock `acquire`) compare
    /// equal and are removed where nothing suspended. Each hop left costs a
    /// `swift_task_switch`, which takes the task's status-record lock to
    /// read its executor preference.
    public static var shared: LoopActor {
        @_effects(readnone) get { instance }
    }

    // Computed at each hop (1% of a task round trip), not stored: a stored
    // executor keeps the optimizer from dropping the hop at the start of a
    // task's entry closure, which costs one more switch per task.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: LoopDispatcher.shared)
    }
}

/// The serial executor behind `LoopActor`: hands each job to the loop that
/// runs on the enqueuing thread.
final class LoopDispatcher: SerialExecutor {
    static let shared = LoopDispatcher()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if let loop = ThreadLoop.current {
            loop.enqueueOnLoopThread(job)
        } else {
            EventLoop.enqueueFromForeignThread(job)
        }
    }

    func checkIsolated() {
        guard ThreadLoop.current != nil else {
            preconditionFailure("not on an event loop thread: @LoopActor code must run on a running EventLoop")
        }
    }

    func isIsolatingCurrentContext() -> Bool? {
        ThreadLoop.current != nil
    }
}

/// The loop that runs on each thread, kept in thread-local storage.
enum ThreadLoop {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    @inline(__always)
    static var current: EventLoop? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<EventLoop>.fromOpaque(raw).takeUnretainedValue()
    }

    static func set(_ loop: EventLoop?) {
        pthread_setspecific(key, loop.map { Unmanaged.passUnretained($0).toOpaque() })
    }
}
