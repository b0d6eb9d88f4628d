import ArgumentParser
import AsyncIO

struct ControlCommand: TopicCommand {
    static let topic = Topic(
        name: "control",
        section: "Control Structures for Tasks",
        abstract: "Wait for many tasks: all, some with a timeout, gathered, as they complete.",
        examples: [
            Example(name: "wait", summary: "wait returns once every task is done.",
                    mirrors: "asyncio_wait.py: asyncio.wait", run: waitExample),
            Example(name: "wait-timeout", summary: "wait with a timeout returns the unfinished tasks too.",
                    mirrors: "asyncio_wait_timeout.py: asyncio.wait(timeout=)", run: waitTimeoutExample),
            Example(name: "gather", summary: "gather returns results in argument order.",
                    mirrors: "asyncio_gather.py: asyncio.gather", run: gatherExample),
            Example(name: "as-completed", summary: "as_completed hands out tasks in the order they finish.",
                    mirrors: "asyncio_as_completed.py: asyncio.as_completed", run: asCompletedExample),
            Example(name: "task-group", summary: "A task group waits for its tasks and cancels them on failure.",
                    mirrors: "Python 3.11: asyncio.TaskGroup", run: taskGroupExample),
            Example(name: "timeout", summary: "A timeout scope cancels its block at a deadline.",
                    mirrors: "Python 3.11: asyncio.timeout, Timeout.reschedule", run: timeoutExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

private func listRepr(_ values: [String]) -> String {
    "[" + values.map(pythonRepr).joined(separator: ", ") + "]"
}

// MARK: wait

@LoopActor
private func phase(_ i: Int) async throws -> String {
    print("in phase \(i)")
    try await sleep(0.1 * Double(i))
    print("done with phase \(i)")
    return "phase \(i) result"
}

private func waitExample() throws {
    try runUntilComplete { _ in
        print("starting main")
        let phases = (0..<3).map { i in createTask(coroutine: "phase") { try await phase(i) } }
        print("waiting for phases to complete")
        let (completed, _) = try await wait(phases)
        print("results: \(listRepr(try completed.map { try $0.result() }))")
    }
}

// MARK: wait-timeout

@LoopActor
private func cancellablePhase(_ i: Int) async throws -> String {
    print("in phase \(i)")
    do {
        try await sleep(0.1 * Double(i))
    } catch let error as CancelledError {
        print("phase \(i) canceled")
        throw error
    }
    print("done with phase \(i)")
    return "phase \(i) result"
}

private func waitTimeoutExample() throws {
    try runUntilComplete { _ in
        print("starting main")
        let phases = (0..<3).map { i in createTask(coroutine: "phase") { try await cancellablePhase(i) } }
        print("waiting 0.1 for phases to complete")
        let (completed, pending) = try await wait(phases, timeout: 0.1)
        print("\(completed.count) completed and \(pending.count) pending")
        if !pending.isEmpty {
            print("canceling tasks")
            for task in pending { task.cancel() }
        }
        print("exiting main")
    }
}

// MARK: gather

@LoopActor
private func phase1() async throws -> String {
    print("in phase1")
    try await sleep(2)
    print("done with phase1")
    return "phase1 result"
}

@LoopActor
private func phase2() async throws -> String {
    print("in phase2")
    try await sleep(1)
    print("done with phase2")
    return "phase2 result"
}

private func gatherExample() throws {
    try runUntilComplete { _ in
        print("starting main")
        print("waiting for phases to complete")
        let results = try await gather(
            createTask(coroutine: "phase1") { try await phase1() },
            createTask(coroutine: "phase2") { try await phase2() }
        )
        print("results: \(listRepr(results))")
    }
}

// MARK: as-completed

@LoopActor
private func countdownPhase(_ i: Int) async throws -> String {
    print("in phase \(i)")
    try await sleep(0.5 - 0.1 * Double(i))
    print("done with phase \(i)")
    return "phase \(i) result"
}

private func asCompletedExample() throws {
    try runUntilComplete { _ in
        print("starting main")
        let phases = (0..<3).map { i in createTask(coroutine: "phase") { try await countdownPhase(i) } }
        print("waiting for phases to complete")
        var results: [String] = []
        for try await nextToComplete in asCompleted(phases) {
            let answer = try nextToComplete.result()
            print("received answer \(pythonRepr(answer))")
            results.append(answer)
        }
        print("results: \(listRepr(results))")
    }
}

// MARK: task-group

struct PhaseFailed: Error, CustomStringConvertible {
    let phase: Int
    var description: String { "RuntimeError('phase \(phase) failed')" }
}

@LoopActor
private func groupPhase(_ i: Int, fail: Bool = false) async throws -> String {
    print("in phase \(i)")
    do {
        try await sleep(0.1 * Double(i))
    } catch let error as CancelledError {
        print("phase \(i) cancelled")
        throw error
    }
    if fail {
        print("phase \(i) failing")
        throw PhaseFailed(phase: i)
    }
    print("done with phase \(i)")
    return "phase \(i) result"
}

@LoopActor
private func describe(_ i: Int, _ task: LoopTask<String>) -> String {
    if task.isCancelled { return "phase \(i) task: cancelled" }
    if let error = try? task.exception() { return "phase \(i) task: raised \(error)" }
    return "phase \(i) task: result \(pythonRepr((try? task.result()) ?? ""))"
}

private func taskGroupExample() throws {
    try runUntilComplete { _ in
        print("starting main")

        print("part 1: all phases succeed")
        var tasks: [LoopTask<String>] = []
        try await withLoopTaskGroup { group in
            tasks = (0..<3).map { i in group.createTask(coroutine: "phase") { try await groupPhase(i) } }
            print("waiting for phases to complete")
        }
        print("results: \(listRepr(try tasks.map { try $0.result() }))")

        print("part 2: phase 1 fails")
        do {
            try await withLoopTaskGroup { group in
                tasks = (0..<3).map { i in
                    group.createTask(coroutine: "phase") { try await groupPhase(i, fail: i == 1) }
                }
                print("waiting for phases to complete")
                do {
                    try await sleep(1)
                } catch let error as CancelledError {
                    print("body of async with cancelled")
                    throw error
                }
                print("not reached")
            }
        } catch let group as ExceptionGroup {
            let members = group.errors.map { "\($0)" }.joined(separator: ", ")
            print("caught ExceptionGroup(\(pythonRepr(group.message)), [\(members)])")
            for error in group.errors { print("  contains \(error)") }
        }
        for (i, task) in tasks.enumerated() { print(describe(i, task)) }
        print("exiting main")
    }
}

// MARK: timeout

@LoopActor
private func timedPhase(_ i: Int, _ delay: Double) async throws -> String {
    print("in phase \(i)")
    do {
        try await sleep(delay)
    } catch let error as CancelledError {
        print("phase \(i) cancelled")
        throw error
    }
    print("done with phase \(i)")
    return "phase \(i) result"
}

private func timeoutExample() throws {
    try runUntilComplete { loop in
        print("starting main")

        print("part 1: timeout(0.2) around a 0.1 second phase")
        var scope: Timeout?
        var result = try await timeout(0.2) { cm in
            scope = cm
            return try await timedPhase(1, 0.1)
        }
        print("result: \(pythonRepr(result)), expired: \(pythonBool(scope!.expired))")

        print("part 2: timeout(0.1) around a 0.5 second phase")
        do {
            result = try await timeout(0.1) { cm in
                scope = cm
                return try await timedPhase(2, 0.5)
            }
            print("not reached")
        } catch let error as TimeoutError {
            print("caught \(error), expired: \(pythonBool(scope!.expired))")
        }

        print("part 3: timeout(0.1) rescheduled to 0.3 around a 0.2 second phase")
        result = try await timeout(0.1) { cm in
            scope = cm
            cm.reschedule(loop.time() + 0.3)
            print("deadline moved")
            return try await timedPhase(3, 0.2)
        }
        print("result: \(pythonRepr(result)), expired: \(pythonBool(scope!.expired))")

        print("part 4: timeout(None) rescheduled to 0.1 around a 0.5 second phase")
        do {
            result = try await timeout(nil) { cm in
                scope = cm
                print("deadline: \(cm.when.map { "\($0)" } ?? "None")")
                cm.reschedule(loop.time() + 0.1)
                print("deadline set")
                return try await timedPhase(4, 0.5)
            }
            print("not reached")
        } catch let error as TimeoutError {
            print("caught \(error), expired: \(pythonBool(scope!.expired))")
        }

        print("exiting main")
    }
}

private func pythonBool(_ value: Bool) -> String { value ? "True" : "False" }
