/// The loop's tasks that are not done yet. Each task knows its slot, so
/// adding and removing cost O(1) and no hashing. A finished task leaves a
/// hole that the next new task fills, so removing one never touches another
/// task's memory (with many tasks alive, that memory is cold), and the holes
/// are chained through the slots themselves, so removing allocates nothing.
@LoopActor
struct LiveTasks {
    /// Eight bytes: a task is kept as its non-generic base class.
    private enum Slot {
        case task(FutureCore)
        /// A free slot, and the next free one (-1 for none).
        case hole(next: Int32)
    }

    private var slots: [Slot] = []
    private var firstHole: Int32 = -1
    private(set) var count = 0

    /// The live tasks, in no particular (but deterministic) order.
    var tasks: [any AnyLoopTask] {
        slots.compactMap { if case .task(let task) = $0 { task as? any AnyLoopTask } else { nil } }
    }

    /// Adds a task; returns its slot, which `remove` needs.
    mutating func insert(_ task: FutureCore) -> Int32 {
        count += 1
        guard firstHole >= 0 else {
            slots.append(.task(task))
            return Int32(slots.count - 1)
        }
        let index = firstHole
        guard case .hole(let next) = slots[Int(index)] else { preconditionFailure("corrupt task list") }
        firstHole = next
        slots[Int(index)] = .task(task)
        return index
    }

    mutating func remove(at index: Int32) {
        count -= 1
        if count == 0 {
            slots.removeAll(keepingCapacity: true)
            firstHole = -1
        } else {
            slots[Int(index)] = .hole(next: firstHole)
            firstHole = index
        }
    }
}
