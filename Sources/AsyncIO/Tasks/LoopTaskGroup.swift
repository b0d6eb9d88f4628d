/// Runs a group of tasks that live no longer than a block (Python 3.11's
/// `asyncio.TaskGroup`, named so as not to shadow Swift's `TaskGroup`).
///
/// The block's end waits for every task. If one fails, the others and the
/// block itself are cancelled, and the errors are thrown together as an
/// `ExceptionGroup`.
@LoopActor
public final class LoopTaskGroup {
    private let loop: EventLoop
    private let parent: any AnyLoopTask
    /// The unfinished tasks, each with its creation number: an abort
    /// cancels them in the order they were created.
    private var tasks: [ObjectIdentifier: (number: Int, task: any AnyFuture)] = [:]
    private var created = 0
    private var errors: [any Error] = []
    private var aborting = false
    private var exiting = false
    private var finished = false
    private var parentCancelRequested = false
    private var allDone: Future<Void>?

    init(parent: any AnyLoopTask) {
        self.parent = parent
        self.loop = parent.loop
    }

    /// Starts `operation` as a task of the group.
    @discardableResult
    public func createTask<T: Sendable>(
        name: String? = nil, coroutine: String? = nil,
        fileID: StaticString = #fileID, line: UInt = #line,
        _ operation: @escaping @LoopActor () async throws -> T
    ) -> LoopTask<T> {
        precondition(!finished, "TaskGroup is finished")
        precondition(!(aborting && exiting), "TaskGroup is shutting down")
        let task = loop.createTask(name: name, coroutine: coroutine, fileID: fileID, line: line, operation)
        created += 1
        tasks[ObjectIdentifier(task)] = (created, task)
        task.addDoneCallback { task in self.taskDone(task) }
        return task
    }

    private func taskDone(_ task: any AnyFuture) {
        tasks[ObjectIdentifier(task)] = nil
        if let allDone, tasks.isEmpty, !allDone.isDone { try? allDone.setResult(()) }
        guard !task.isCancelled, let error = try? task.exception() else { return }
        errors.append(error)
        if !aborting, !parentCancelRequested {
            // The block may still be running: stop it too, and take this
            // cancellation back when the block ends.
            abort()
            parentCancelRequested = true
            parent.cancel(message: nil)
        }
    }

    private func abort() {
        aborting = true
        for (_, task) in tasks.values.sorted(by: { $0.number < $1.number }) where !task.isDone {
            task.cancel(message: nil)
        }
    }

    /// Waits for the tasks after the block ended with `blockError` (nil:
    /// normally) and returns what the group must throw, if anything.
    func exit(_ blockError: (any Error)?) async -> (any Error)? {
        exiting = true
        var propagateCancellation = blockError as? CancelledError
        if blockError != nil, !aborting { abort() }
        while !tasks.isEmpty {
            let allDone = Future<Void>(loop: loop)
            self.allDone = allDone
            do {
                try await allDone.value
            } catch let cancelled as CancelledError {
                if !aborting {
                    propagateCancellation = cancelled
                    abort()
                }
            } catch {}
            self.allDone = nil
        }
        finished = true
        if parentCancelRequested, parent.uncancel() == 0 {
            // The cancellation was ours, not the caller's: do not let it escape.
            propagateCancellation = nil
        }
        if let propagateCancellation, errors.isEmpty { return propagateCancellation }
        if let blockError, !(blockError is CancelledError) { errors.append(blockError) }
        if !errors.isEmpty { return ExceptionGroup("unhandled errors in a TaskGroup", errors) }
        return blockError
    }
}

/// Runs `body` with a new task group and waits for all its tasks
/// (`async with asyncio.TaskGroup() as tg:`).
@LoopActor
public func withLoopTaskGroup<T>(_ body: (LoopTaskGroup) async throws -> T) async throws -> T {
    guard let parent = currentLoopTask() else { throw NoLoopTaskError(scope: "withLoopTaskGroup()") }
    let group = LoopTaskGroup(parent: parent)
    let value: T
    do {
        value = try await body(group)
    } catch {
        throw await group.exit(error) ?? error
    }
    if let error = await group.exit(nil) { throw error }
    return value
}
