/// Timers ordered by deadline, then by scheduling order, so equal deadlines
/// fire first-in first-out. Cancelled timers stay in the heap until they
/// reach its head or until they are the majority, as in asyncio.
///
/// A timer is either a `TimerHandle` or a task in `sleep`: a sleeping task
/// is its own timer, so a sleep allocates nothing (asyncio makes a future
/// and a timer handle for each).
@LoopActor
struct TimerQueue {
    enum Target {
        case handle(TimerHandle)
        /// A task in `sleep`, seen through its non-generic base.
        case sleeper(FutureCore)
    }

    private struct Entry: Comparable {
        let when: Double
        let sequence: UInt64
        let target: Target

        static func < (a: Entry, b: Entry) -> Bool {
            a.when < b.when || (a.when == b.when && a.sequence < b.sequence)
        }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    /// asyncio's thresholds for rebuilding the heap without cancelled timers.
    private static let minimumForCompaction = 100
    private static let cancelledFractionForCompaction = 0.5

    private var heap = TimerHeap<Entry>()
    private var nextSequence: UInt64 = 0
    private(set) var cancelledCount = 0
    /// Sleeps cancelled while their timer is still queued (a handle says
    /// itself whether it is cancelled; a sleeper is known by its sequence).
    private var cancelledSleeps = Set<UInt64>()

    /// The loop makes its queue when it is created, before it runs.
    nonisolated init() {}

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// Adds a timer; of two with the same deadline, the one added first fires first.
    mutating func schedule(_ handle: TimerHandle) {
        add(.handle(handle), at: handle.when)
    }

    /// Adds the timer of a sleeping task; returns the sequence number that
    /// names it in `cancelSleep`.
    mutating func schedule(sleeper task: FutureCore, at when: Double) -> UInt64 {
        add(.sleeper(task), at: when)
    }

    @discardableResult
    private mutating func add(_ target: Target, at when: Double) -> UInt64 {
        nextSequence &+= 1
        heap.insert(Entry(when: when, sequence: nextSequence, target: target))
        return nextSequence
    }

    mutating func noteCancelled() { cancelledCount += 1 }

    /// The sleep's timer must not fire. If it has left the queue already,
    /// the task tells `forgetCancelledSleep` when that timer runs.
    mutating func cancelSleep(_ sequence: UInt64) {
        cancelledSleeps.insert(sequence)
        cancelledCount += 1
    }

    /// A sleep cancelled after its timer left the queue.
    mutating func forgetCancelledSleep(_ sequence: UInt64) {
        if cancelledSleeps.remove(sequence) != nil { cancelledCount -= 1 }
    }

    private func isCancelled(_ entry: Entry) -> Bool {
        switch entry.target {
        case .handle(let handle): handle.isCancelled
        case .sleeper: !cancelledSleeps.isEmpty && cancelledSleeps.contains(entry.sequence)
        }
    }

    /// Takes a timer off the queue; true if it was cancelled.
    private mutating func leave(_ entry: Entry) -> Bool {
        switch entry.target {
        case .handle(let handle):
            handle.isScheduled = false
            return handle.isCancelled
        case .sleeper:
            return !cancelledSleeps.isEmpty && cancelledSleeps.remove(entry.sequence) != nil
        }
    }

    /// Drops cancelled timers: all of them when they are too many, otherwise
    /// just those at the head. Returns the earliest live deadline.
    mutating func pruneCancelled() -> Double? {
        if heap.count > Self.minimumForCompaction,
           Double(cancelledCount) / Double(heap.count) > Self.cancelledFractionForCompaction {
            var live: [Entry] = []
            live.reserveCapacity(max(0, heap.count - cancelledCount))
            for entry in heap.elements {
                if isCancelled(entry) { _ = leave(entry) } else { live.append(entry) }
            }
            heap = TimerHeap(live)
            // What is left are sleeps cancelled after their timer left the queue.
            cancelledCount = cancelledSleeps.count
        } else {
            while let head = heap.min, isCancelled(head) {
                _ = leave(heap.popMin()!)
                cancelledCount -= 1
            }
        }
        return heap.min?.when
    }

    /// Removes, in order, every live timer due before `limit` and passes on
    /// what should run in its place.
    mutating func popDue(before limit: Double, _ body: (Target) -> Void) {
        while let when = heap.min?.when, when < limit {
            let head = heap.popMin()!
            if leave(head) {
                cancelledCount -= 1
            } else {
                body(head.target)
            }
        }
    }

    mutating func removeAll() {
        for entry in heap.elements { _ = leave(entry) }
        heap = TimerHeap()
        cancelledCount = 0
        cancelledSleeps = []
    }
}
