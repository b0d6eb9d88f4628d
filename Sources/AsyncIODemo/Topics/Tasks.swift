import ArgumentParser
import AsyncIO

struct TasksCommand: TopicCommand {
    static let topic = Topic(
        name: "tasks",
        section: "Executing Tasks Concurrently",
        abstract: "Tasks: coroutines the loop runs on their own, and how to cancel them.",
        examples: [
            Example(name: "create-task", summary: "A task runs once the creating coroutine gives way.",
                    mirrors: "asyncio_create_task.py: loop.create_task, await task", run: createTaskExample),
            Example(name: "cancel", summary: "A task cancelled before it starts never runs.",
                    mirrors: "asyncio_cancel_task.py: Task.cancel, CancelledError", run: cancelBeforeStart),
            Example(name: "cancel-while-waiting", summary: "Cancelling a sleeping task interrupts its await.",
                    mirrors: "asyncio_cancel_task2.py: cancelling a task while it waits", run: cancelWhileWaiting),
            Example(name: "ensure-future", summary: "ensure_future wraps a coroutine in a task.",
                    mirrors: "asyncio_ensure_future.py: asyncio.ensure_future", run: ensureFutureExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

// MARK: create-task

@LoopActor
private func taskFunc() async -> String {
    print("in task_func")
    return "the result"
}

private func createTaskExample() throws {
    try runUntilComplete { loop in
        print("creating task")
        let task = loop.createTask(coroutine: "task_func") { await taskFunc() }
        print("waiting for \(task)")
        let returnValue = try await task.value
        print("task completed \(task)")
        print("return value: \(pythonRepr(returnValue))")
    }
}

// MARK: cancel

private func cancelBeforeStart() throws {
    try runUntilComplete { loop in
        print("creating task")
        let task = loop.createTask(coroutine: "task_func") { await taskFunc() }
        print("canceling task")
        task.cancel()
        print("canceled task \(task)")
        do {
            _ = try await task.value
            print("task result: \(pythonRepr(try task.result()))")
        } catch is CancelledError {
            print("caught error from canceled task")
        }
    }
}

// MARK: cancel-while-waiting

@LoopActor
private func sleepingTaskFunc() async throws -> String {
    print("in task_func, sleeping")
    do {
        try await sleep(1)
    } catch let error as CancelledError {
        print("task_func was canceled")
        throw error
    }
    return "the result"
}

@LoopActor
private func taskCanceller(_ task: LoopTask<String>) {
    print("in task_canceller")
    task.cancel()
    print("canceled the task")
}

private func cancelWhileWaiting() throws {
    try runUntilComplete { loop in
        print("creating task")
        let task = loop.createTask(coroutine: "task_func") { try await sleepingTaskFunc() }
        loop.callSoon { taskCanceller(task) }
        do {
            _ = try await task.value
        } catch is CancelledError {
            print("main() also sees task as canceled")
        }
    }
}

// MARK: ensure-future

@LoopActor
private func wrapped() async -> String {
    print("wrapped")
    return "result"
}

@LoopActor
private func inner(_ task: LoopTask<String>) async throws {
    print("inner: starting")
    print("inner: waiting for \(task)")
    let result = try await task.value
    print("inner: task returned \(pythonRepr(result))")
}

@LoopActor
private func starter() async throws {
    print("starter: creating task")
    let task = ensureFuture(coroutine: "wrapped") { await wrapped() }
    print("starter: waiting for inner")
    try await inner(task)
    print("starter: inner returned")
}

private func ensureFutureExample() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    print("entering event loop")
    try loop.runUntilComplete { try await starter() }
}
