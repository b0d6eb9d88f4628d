import HeapModule

/// Timers ordered by deadline, then by scheduling order, so equal deadlines
/// fire first-in first-out. Cancelled timers stay in the heap until they
/// reach its head or until they are the majority, as in asyncio.
@LoopActor
struct TimerQueue {
    private struct Entry: Comparable {
        let when: Double
        let sequence: UInt64
        let handle: TimerHandle

        static func < (a: Entry, b: Entry) -> Bool {
            a.when < b.when || (a.when == b.when && a.sequence < b.sequence)
        }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    /// asyncio's thresholds for rebuilding the heap without cancelled timers.
    private static let minimumForCompaction = 100
    private static let cancelledFractionForCompaction = 0.5

    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0
    private(set) var cancelledCount = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// Adds a timer; of two with the same deadline, the one added first fires first.
    mutating func schedule(_ handle: TimerHandle) {
        nextSequence &+= 1
        heap.insert(Entry(when: handle.when, sequence: nextSequence, handle: handle))
    }

    mutating func noteCancelled() { cancelledCount += 1 }

    /// Drops cancelled timers: all of them when they are too many, otherwise
    /// just those at the head. Returns the earliest live deadline.
    mutating func pruneCancelled() -> Double? {
        if heap.count > Self.minimumForCompaction,
           Double(cancelledCount) / Double(heap.count) > Self.cancelledFractionForCompaction {
            var live: [Entry] = []
            live.reserveCapacity(heap.count - cancelledCount)
            for entry in heap.unordered {
                if entry.handle.isCancelled { entry.handle.isScheduled = false } else { live.append(entry) }
            }
            heap = Heap(live)
            cancelledCount = 0
        } else {
            while let head = heap.min, head.handle.isCancelled {
                _ = heap.removeMin()
                head.handle.isScheduled = false
                cancelledCount -= 1
            }
        }
        return heap.min?.when
    }

    /// Removes and passes on, in order, every live timer due before `limit`.
    mutating func popDue(before limit: Double, _ body: (TimerHandle) -> Void) {
        while let head = heap.min, head.when < limit {
            _ = heap.removeMin()
            head.handle.isScheduled = false
            if head.handle.isCancelled {
                cancelledCount -= 1
            } else {
                body(head.handle)
            }
        }
    }

    mutating func removeAll() {
        for entry in heap.unordered { entry.handle.isScheduled = false }
        heap = Heap()
        cancelledCount = 0
    }
}
