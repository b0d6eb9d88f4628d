/// The loop's tasks that are not done yet, in an array where each task
/// knows its slot, so adding and removing cost O(1) and no hashing.
@LoopActor
struct LiveTasks {
    private(set) var tasks: [any AwaitingTask] = []

    mutating func insert(_ task: any AwaitingTask) {
        task.liveIndex = Int32(tasks.count)
        tasks.append(task)
    }

    mutating func remove(_ task: any AwaitingTask) {
        let index = Int(task.liveIndex)
        guard index >= 0 else { return }
        let last = tasks.removeLast()
        if index < tasks.count {
            tasks[index] = last
            last.liveIndex = Int32(index)
        }
        task.liveIndex = -1
    }
}
