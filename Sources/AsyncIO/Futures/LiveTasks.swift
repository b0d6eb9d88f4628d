/// The loop's tasks that are not done yet. Each task knows its slot, so
/// adding and removing cost O(1) and no hashing. A finished task leaves a
/// hole that the next new task fills, so removing one never touches another
/// task's memory (with many tasks alive, that memory is cold), and the holes
/// are chained through the slots themselves, so removing allocates nothing.
@LoopActor
struct LiveTasks {
    private enum Slot {
        case task(any AwaitingTask)
        /// A free slot, and the next free one (-1 for none).
        case hole(next: Int32)
    }

    private var slots: [Slot] = []
    private var firstHole: Int32 = -1
    private(set) var count = 0

    /// The live tasks, in no particular (but deterministic) order.
    var tasks: [any AwaitingTask] {
        slots.compactMap { if case .task(let task) = $0 { task } else { nil } }
    }

    mutating func insert(_ task: any AwaitingTask) {
        count += 1
        if firstHole >= 0 {
            let index = firstHole
            guard case .hole(let next) = slots[Int(index)] else { preconditionFailure("corrupt task list") }
            firstHole = next
            slots[Int(index)] = .task(task)
            task.liveIndex = index
        } else {
            task.liveIndex = Int32(slots.count)
            slots.append(.task(task))
        }
    }

    mutating func remove(_ task: any AwaitingTask) {
        let index = task.liveIndex
        guard index >= 0 else { return }
        task.liveIndex = -1
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
