#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DequeModule
import Synchronization

/// A pool of threads for blocking work (Python's
/// `concurrent.futures.ThreadPoolExecutor`). Workers start when work
/// arrives and no worker is idle, up to `maxWorkers`, and stay until
/// `shutdown`. Also a task executor, which `toThread` uses to run a Swift
/// task on a worker.
public final class ThreadPoolExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: the mutable state (`queue`, `idle`, `watching`,
    // `threads`, `isShutDown`) is touched only with `mutex` held.
    public let maxWorkers: Int
    public let threadNamePrefix: String

    private enum Work {
        case item(WorkItem)
        case job(UnownedJob)
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue = Deque<Work>()
    /// `queue.count`, readable without the mutex by a worker watching for work.
    private let queued = Atomic<Int>(0)
    /// Workers asleep waiting for work, and workers watching for it before
    /// they sleep: both take new work without a new thread.
    private var idle = 0
    private var watching = 0
    private var threads: [pthread_t] = []
    private var isShutDown = false

    /// Numbers pools for their default thread names, as Python does.
    private static let poolCounter = Atomic<Int>(0)

    /// Python's default pool size: `min(32, cores + 4)`.
    public static var defaultMaxWorkers: Int { min(32, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) + 4) }

    /// A pool of at most `maxWorkers` threads, named `<prefix>_0`, `<prefix>_1`…;
    /// the prefix defaults to `ThreadPoolExecutor-<n>` for the process's n-th pool.
    public init(maxWorkers: Int? = nil, threadNamePrefix: String? = nil) {
        let maxWorkers = maxWorkers ?? Self.defaultMaxWorkers
        precondition(maxWorkers > 0, "maxWorkers must be greater than 0")
        self.maxWorkers = maxWorkers
        let number = Self.poolCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        self.threadNamePrefix = threadNamePrefix ?? "ThreadPoolExecutor-\(number)"
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
    }

    deinit {
        pthread_cond_destroy(workAvailable)
        pthread_mutex_destroy(mutex)
        workAvailable.deallocate()
        mutex.deallocate()
    }

    /// Queues `item`; throws `ExecutorShutdownError` after `shutdown`.
    func submit(_ item: WorkItem) throws {
        switch add(.item(item)) {
        case .added: return
        case .shutDown: throw ExecutorShutdownError()
        case .noThread: throw OSError(errno: EAGAIN, operation: "can't start new thread")
        }
    }

    private enum Admission { case added, shutDown, noThread }

    /// Task-executor entry point: a job of a task that prefers this pool.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // A job must run even after shutdown, or its task never ends.
        if add(.job(job)) != .added { job.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    private func add(_ work: Work) -> Admission {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !isShutDown else { return .shutDown }
        queue.append(work)
        queued.store(queue.count, ordering: .releasing)
        if queue.count > idle + watching, threads.count < maxWorkers {
            startWorker()
            if threads.isEmpty {
                // No thread could be started and none exists: nobody would run it.
                queue.removeLast()
                queued.store(queue.count, ordering: .releasing)
                return .noThread
            }
        } else {
            pthread_cond_signal(workAvailable)
        }
        return .added
    }

    /// With `mutex` held.
    private func startWorker() {
        let name = "\(threadNamePrefix)_\(threads.count)"
        let context = Unmanaged.passRetained(WorkerContext(pool: self, name: name)).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, nil, { raw in
            let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
            ThreadName.set(context.name)
            context.pool.work()
            return nil
        }, context) == 0 else {
            Unmanaged<WorkerContext>.fromOpaque(context).release()
            return  // the threads already started will take the work
        }
        threads.append(thread)
    }

    private final class WorkerContext {
        let pool: ThreadPoolExecutor
        let name: String
        init(pool: ThreadPoolExecutor, name: String) {
            self.pool = pool
            self.name = name
        }
    }

    /// A worker's life: take work until the pool is shut down and drained.
    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            if let next = queue.popFirst() {
                queued.store(queue.count, ordering: .releasing)
                pthread_mutex_unlock(mutex)
                switch next {
                case .item(let item): item.run()
                case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
                }
                pthread_mutex_lock(mutex)
            } else if isShutDown {
                pthread_mutex_unlock(mutex)
                return
            } else {
                watching += 1
                pthread_mutex_unlock(mutex)
                let more = workArrivesSoon()
                pthread_mutex_lock(mutex)
                watching -= 1
                if more || !queue.isEmpty || isShutDown { continue }
                idle += 1
                pthread_cond_wait(workAvailable, mutex)
                idle -= 1
            }
        }
    }

    /// Watches the queue for a moment before the worker sleeps (see
    /// `workerHandOffSpin`); true if work arrived.
    private func workArrivesSoon() -> Bool {
        let deadline = monotonicSeconds() + workerHandOffSpin
        repeat {
            for _ in 0..<64 where queued.load(ordering: .acquiring) > 0 { return true }
        } while monotonicSeconds() < deadline
        return false
    }

    /// Whether `shutdown` was called: new work is refused.
    public var isShutDownForWork: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return isShutDown
    }

    /// Stops taking work (Python's `shutdown`). With `cancelFutures`, items
    /// not yet started are cancelled; the rest still run. With `wait`,
    /// returns once every worker has finished and exited; else the workers
    /// exit on their own when the queue is empty. Never call it with
    /// `wait` from a worker of this pool.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        pthread_mutex_lock(mutex)
        isShutDown = true
        var cancelled: [WorkItem] = []
        if cancelFutures {
            queue.removeAll { work in
                guard case .item(let item) = work else { return false }
                cancelled.append(item)
                return true
            }
            queued.store(queue.count, ordering: .releasing)
        }
        let workers = threads
        threads = []
        pthread_cond_broadcast(workAvailable)
        pthread_mutex_unlock(mutex)
        for item in cancelled { item.cancelFromShutdown() }
        for thread in workers {
            if wait { pthread_join(thread, nil) } else { pthread_detach(thread) }
        }
    }
}
