#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension EventLoop {
    /// Task-executor entry point: every job of a task that prefers this loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if ThreadLoop.current === self {
            enqueueOnLoopThread(job)
        } else {
            enqueueFromAnyThread(.job(job))
        }
    }

    /// Queues a job; only on the loop's own thread.
    @inline(__always)
    func enqueueOnLoopThread(_ job: UnownedJob) {
        if capturingWakeUp {
            capturedJob = job
        } else {
            ready.append(.job(job))
        }
    }

    /// Hands an item to the loop through the locked inbox and wakes it.
    func enqueueFromAnyThread(_ item: ReadyItem) {
        let mustWake = inbox.withLock { inbox in
            guard !inbox.isClosed else { return false }
            inbox.items.append(item)
            inboxCount.store(inbox.items.count, ordering: .releasing)
            guard !inbox.wakePending else { return false }
            inbox.wakePending = true
            return true
        }
        if mustWake { selector.wake() }
    }

    /// Moves what other threads sent into the ready queue.
    @LoopActor
    func drainInbox(afterWakeUp woken: Bool) {
        let items = inbox.withLock { inbox in
            if woken { inbox.wakePending = false }
            var taken: [ReadyItem] = []
            swap(&taken, &inbox.items)
            inboxCount.store(0, ordering: .releasing)
            return taken
        }
        let count = items.count
        for item in consume items { ready.append(item) }
        if let instruments, count > 0 {
            for instrument in instruments { instrument.wokenByOtherThreads(itemCount: count) }
        }
    }

    /// Whether another thread has sent work since the last drain.
    var inboxHasItems: Bool { inboxCount.load(ordering: .acquiring) > 0 }

    /// A job for `@LoopActor` code enqueued by a thread that runs no loop,
    /// such as a continuation resumed from a worker thread. It belongs to the
    /// loop that is running; with several running, the job cannot tell which.
    static func enqueueFromForeignThread(_ job: UnownedJob) {
        guard let loop = registry.withLock({ $0.soleCandidate }) else {
            preconditionFailure("""
                @LoopActor code was resumed from a thread that runs no event loop while \
                several loops are open; resume it from the loop's thread instead \
                (for example with callSoonThreadsafe)
                """)
        }
        loop.enqueueFromAnyThread(.job(job))
    }

    /// The loops of this process, to route jobs that arrive from other threads.
    struct Registry {
        private var running: [ObjectIdentifier: Unmanaged<EventLoop>] = [:]
        private var open: [ObjectIdentifier: Unmanaged<EventLoop>] = [:]

        mutating func created(_ loop: EventLoop) { open[ObjectIdentifier(loop)] = .passUnretained(loop) }
        mutating func forget(_ loop: EventLoop) {
            open[ObjectIdentifier(loop)] = nil
            running[ObjectIdentifier(loop)] = nil
        }
        mutating func started(_ loop: EventLoop) { running[ObjectIdentifier(loop)] = .passUnretained(loop) }
        mutating func finished(_ loop: EventLoop) { running[ObjectIdentifier(loop)] = nil }
        mutating func closed(_ loop: EventLoop) { open[ObjectIdentifier(loop)] = nil }

        /// The one running loop, or else the one open loop.
        var soleCandidate: EventLoop? {
            if running.count == 1 { return running.first!.value.takeUnretainedValue() }
            if running.isEmpty, open.count == 1 { return open.first!.value.takeUnretainedValue() }
            return nil
        }
    }

    static let registry = Locked(Registry())
}
