import Testing
@testable import AsyncIO
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.suiteLimit) struct TaskTests {
    @Test func creatingATaskDoesNotRunIt() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let task = loop.createTask { log("task ran") }
            log("created")
            #expect(!task.isDone)
            try await sleep(0)
            log("after one iteration")
            return log.entries
        }
        #expect(log == ["created", "task ran", "after one iteration"])
    }

    @Test func tasksAreNamedInOrderUnlessNamed() throws {
        let names = try runLoop { loop -> [String] in
            let a = loop.createTask { 1 }
            let b = loop.createTask(name: "custom") { 2 }
            let c = createTask { 3 }
            _ = try await gather(a, b, c)
            return [a.name, b.name, c.name, currentLoopTask()?.name ?? "none"]
        }
        #expect(names == ["Task-2", "custom", "Task-4", "Task-1"])
    }

    @Test func taskReprFollowsItsState() throws {
        let reprs = try runLoop { loop -> [String] in
            let task = loop.createTask(coroutine: "work") { () -> String in
                try await sleep(0.001)
                return "ok"
            }
            let pending = task.repr
            _ = try await task.value
            let failing = loop.createTask(name: "bad", coroutine: "fail") { () -> Int in throw Boom() }
            _ = try? await failing.value
            return [pending, task.repr, failing.repr]
        }
        #expect(reprs[0].hasPrefix("<Task pending name='Task-2' coro=<work() running at TaskTests.swift:"))
        #expect(reprs[1].hasPrefix("<Task finished name='Task-2' coro=<work() done, defined at TaskTests.swift:"))
        #expect(reprs[1].hasSuffix("> result='ok'>"))
        #expect(reprs[2].hasSuffix("> exception=Boom(tag: \"boom\")>"))
    }

    @Test func taskCancelledBeforeItsFirstStepNeverRuns() throws {
        let (ran, cancelled, error) = try runLoop { loop -> (Bool, Bool, String) in
            var ran = false
            let task = loop.createTask { ran = true }
            #expect(task.cancel(message: "early"))
            #expect(task.repr.hasPrefix("<Task cancelling"))
            do { try await task.value; return (ran, task.isCancelled, "no error") } catch { return (ran, task.isCancelled, "\(error)") }
        }
        #expect(!ran)
        #expect(cancelled)
        #expect(error == "CancelledError('early')")
    }

    @Test func cancellingASleepingTaskInterruptsItAtOnce() throws {
        let (log, elapsed) = try runLoop { loop -> ([String], Double) in
            let log = Log()
            let start = loop.time()
            let task = loop.createTask {
                do { try await sleep(30) } catch let error as CancelledError { log("sleep raised"); throw error }
            }
            try await sleep(0.001)
            task.cancel()
            do { try await task.value } catch is CancelledError { log("awaiter raised") }
            return (log.entries, loop.time() - start)
        }
        #expect(log == ["sleep raised", "awaiter raised"])
        #expect(elapsed < 30)  // it did not sleep the full 30 s
    }

    @Test func cancellingATaskCancelsTheFutureItAwaits() throws {
        let (futureCancelled, taskCancelled) = try runLoop { loop -> (Bool, Bool) in
            let future = Future<Int>(loop: loop)
            let task = loop.createTask { try await future.value }
            try await sleep(0)
            task.cancel()
            _ = try? await task.value
            return (future.isCancelled, task.isCancelled)
        }
        #expect(futureCancelled && taskCancelled)
    }

    @Test func taskMayCatchCancellationAndCarryOn() throws {
        let (result, cancelling) = try runLoop { loop -> (String, Int) in
            let task = loop.createTask { () -> String in
                do { try await sleep(30) } catch is CancelledError {}
                try await sleep(0)  // later awaits work normally
                return "carried on"
            }
            try await sleep(0)
            task.cancel()
            return (try await task.value, task.cancelling())
        }
        #expect(result == "carried on")
        #expect(cancelling == 1)
    }

    @Test func cancelOfAFinishedTaskReturnsFalse() throws {
        let outcome = try runLoop { loop -> Bool in
            let task = loop.createTask { 5 }
            _ = try await task.value
            return task.cancel()
        }
        #expect(!outcome)
    }

    @Test func cancellationRequestedWhileRunningIsDeliveredAtTheNextAwait() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            var me: LoopTask<Void>?
            let task = loop.createTask {
                me?.cancel()  // a task cancelling itself: nothing happens until it awaits
                log("still running")
                do { try await sleep(0) } catch is CancelledError { log("cancelled at await") }
            }
            me = task
            try await task.value
            return log.entries
        }
        #expect(log == ["still running", "cancelled at await"])
    }

    @Test func cancellationAfterTheAwaitedFutureCompletedStillRaises() throws {
        // The future is done but the task has not resumed yet: asyncio
        // throws CancelledError at that await instead of returning the result.
        let outcome = try runLoop { loop -> String in
            let future = Future<Int>(loop: loop)
            let task = loop.createTask { () -> String in
                do { _ = try await future.value; return "got result" } catch is CancelledError { return "cancelled" }
            }
            try await sleep(0)
            try future.setResult(1)
            task.cancel()
            return try await task.value
        }
        #expect(outcome == "cancelled")
    }

    @Test func cancellationAfterTheSleepTimerFiredStillRaises() throws {
        // The sleep's timer has run (the task's wake-up is queued) when a
        // callback of the same iteration cancels the task: as in asyncio,
        // the sleep throws CancelledError instead of returning.
        let outcome = try runLoop { loop -> String in
            let task = loop.createTask { () -> String in
                do { try await sleep(0.001); return "slept" } catch is CancelledError { return "cancelled" }
            }
            try await sleep(0)  // the task is now asleep
            loop.callLater(0.002) { task.cancel() }
            usleep(20_000)  // both deadlines pass, so one iteration makes both due, timer first
            return try await task.value
        }
        #expect(outcome == "cancelled")
    }

    @Test func cancellationJustBeforeTheSleepTimerRunsWins() throws {
        // A callback that cancels the task and the task's sleep timer become
        // due in the same iteration, callback first: the sleep is cancelled
        // after its timer left the queue, and the timer then does nothing.
        let (outcome, cancelledLeft) = try runLoop { loop -> (String, Int) in
            let task = loop.createTask { () -> String in
                do { try await sleep(0.002); return "slept" } catch let error as CancelledError {
                    return "cancelled: \(error.message ?? "")"
                }
            }
            loop.callLater(0.001) { task.cancel(message: "stop") }
            try await sleep(0)  // the task is now asleep
            usleep(20_000)  // both deadlines pass, so one iteration makes both due, callback first
            let outcome = try await task.value
            return (outcome, loop.timers.cancelledCount)
        }
        #expect(outcome == "cancelled: stop")
        #expect(cancelledLeft == 0)
    }

    @Test func theFirstCancelMessageWinsAndUncancelDoesNotStopIt() throws {
        // As asyncio: the sleep's (or the Event wait's) CancelledError is the
        // first request's, and withdrawing the request does not undo it.
        let outcomes = try runLoop { loop -> [String] in
            let event = Event()
            @LoopActor func cancelledWith(_ wait: @escaping @LoopActor () async throws -> Void) -> LoopTask<String> {
                loop.createTask { () -> String in
                    do { try await wait(); return "finished" } catch let error as CancelledError {
                        return "cancelled: \(error.message ?? "")"
                    }
                }
            }
            let future = Future<Int>(loop: loop)
            let twice = cancelledWith { try await sleep(30) }
            let withdrawn = cancelledWith { try await sleep(30) }
            let waiting = cancelledWith { try await event.wait() }
            let awaiting = cancelledWith { _ = try await future.value }
            try await sleep(0)
            twice.cancel(message: "a")
            twice.cancel(message: "b")
            withdrawn.cancel(message: "a")
            withdrawn.uncancel()
            waiting.cancel(message: "x")
            waiting.cancel(message: "y")
            awaiting.cancel(message: "f")
            awaiting.cancel(message: "g")
            return try await gather([twice, withdrawn, waiting, awaiting]) + ["\(withdrawn.cancelling())"]
        }
        #expect(outcomes == ["cancelled: a", "cancelled: a", "cancelled: x", "cancelled: f", "0"])
    }

    @Test func aTaskCancelledWhileRunningThrowsAtItsSleep() throws {
        let outcome = try runLoop { loop -> String in
            var task: LoopTask<Void>?
            task = loop.createTask {
                task?.cancel(message: "early")  // a request to deliver at the next await
                try await sleep(30)
            }
            return await errorOf { try await task!.value }
        }
        #expect(outcome == "CancelledError('early')")
    }

    @Test func cancelledSleepsLeaveTheTimerQueue() throws {
        let (afterCancel, cancelledLeft, outcomes) = try runLoop { loop -> (Int, Int, [String]) in
            let tasks = (0..<1000).map { i in
                loop.createTask { () -> String in
                    do { try await sleep(i < 990 ? 30 : 0.01); return "slept" } catch is CancelledError { return "cancelled" }
                }
            }
            try await sleep(0)  // every task is asleep
            for task in tasks.prefix(990) { task.cancel() }
            try await sleep(0)  // the next iteration rebuilds the queue without them
            let afterCancel = loop.timers.count
            let outcomes = try await gather(tasks)
            return (afterCancel, loop.timers.cancelledCount, outcomes)
        }
        #expect(afterCancel <= 11)  // the ten live sleeps, plus at most the main task's
        #expect(cancelledLeft == 0)
        #expect(outcomes == Array(repeating: "cancelled", count: 990) + Array(repeating: "slept", count: 10))
    }

    @Test func sleepWorksInASwiftTaskOnTheLoop() throws {
        let slept = try runLoop { loop -> Bool in
            let done = Future<Bool>(loop: loop)
            let operation: @LoopActor () async throws -> Void = {
                try await sleep(0.002)
                try done.setResult(true)
            }
            Task(executorPreference: loop, operation: operation)
            return try await done.value
        }
        #expect(slept)
    }

    @Test func errorsThrownByTheBodyFinishTheTask() throws {
        let error = try runLoop { loop -> Boom? in
            let task = loop.createTask { () -> Int in throw Boom(tag: "inner") }
            _ = try? await task.value
            return try task.exception() as? Boom
        }
        #expect(error == Boom(tag: "inner"))
    }

    @Test func allTasksListsTheLiveOnes() throws {
        let counts = try runLoop { loop -> [Int] in
            let before = loop.allTasks().count  // the main task
            let task = loop.createTask { try await sleep(0.001) }
            let during = loop.allTasks().count
            try await task.value
            return [before, during, loop.allTasks().count]
        }
        #expect(counts == [1, 2, 1])
    }

    @Test func allTasksStaysRightWhileFinishedTasksMakeRoomForNewOnes() throws {
        let (live, listed) = try runLoop { loop -> ([String], [String]) in
            let event = Event()
            let short = (0..<3).map { i in loop.createTask(name: "short-\(i)") { try await sleep(0) } }
            let long = (0..<3).map { i in loop.createTask(name: "long-\(i)") { try await event.wait() } }
            _ = try await gather(short)
            let late = (0..<4).map { i in loop.createTask(name: "late-\(i)") { try await event.wait() } }
            try await sleep(0)
            let listed = loop.allTasks().map(\.name).filter { $0 != "Task-1" }.sorted()
            event.set()
            _ = try await gather(long + late)
            return ((long + late).map(\.name).sorted(), listed + loop.allTasks().map(\.name).filter { $0 != "Task-1" })
        }
        #expect(listed == live)
    }

    @Test func sleepReturnsItsResult() throws {
        #expect(try runLoop { _ in try await sleep(0.001, result: "done") } == "done")
    }

    @Test func ensureFutureWrapsOperationsAndPassesFuturesThrough() throws {
        let same = try runLoop { loop -> Bool in
            let future = Future<Int>(loop: loop)
            let value = try await ensureFuture { 3 }.value
            return value == 3 && ensureFuture(future) === future
        }
        #expect(same)
    }
}

/// asyncio wakes a cancelled task one iteration after `cancel()`, whatever
/// it awaits, so tasks cancelled in turn see it in that order.
@Suite(.suiteLimit) struct CancelOrderTests {
    @Test func tasksCancelledInTurnWakeInThatOrderWhateverTheyAwait() throws {
        let order = try runLoop { loop -> [String] in
            var order: [String] = []
            let future = Future<Int>(loop: loop)
            let queue = Queue<Int>(maxsize: 1)
            try queue.putNowait(0)
            let event = Event()
            let lock = Lock()
            try await lock.acquire()
            let waits: [(String, @LoopActor () async throws -> Void)] = [
                ("future", { _ = try await future.value }),
                ("sleep", { try await sleep(10) }),
                ("put", { try await queue.put(1) }),
                ("event", { try await event.wait() }),
                ("lock", { try await lock.acquire() }),
                ("get", { _ = try await Queue<Int>().get() }),
            ]
            let tasks = waits.map { name, wait in
                createTask {
                    do { try await wait() } catch is CancelledError { order.append(name) }
                }
            }
            try await sleep(0)
            for task in tasks.reversed() { task.cancel() }
            _ = try await gather(tasks)
            return order
        }
        #expect(order == ["get", "lock", "event", "put", "sleep", "future"])
    }
}

@Suite(.suiteLimit) struct ForeignSuspensionTests {
    /// After an await the loop does not own (Swift's `Task.yield()`), the
    /// task is still found, so cancelling it interrupts its next sleep.
    @Test func cancellationStillReachesATaskAfterASwiftYield() throws {
        let (outcome, name) = try runLoop { loop -> (String, String) in
            let task = loop.createTask(name: "yielder") { () -> String in
                await Swift.Task.yield()
                let name = currentLoopTask()?.name ?? "none"
                do { try await sleep(30) } catch is CancelledError { return "cancelled in sleep, \(name)" }
                return "slept"
            }
            try await sleep(0.005)
            task.cancel()
            let outcome = try await task.value
            return (outcome, task.name)
        }
        #expect(outcome == "cancelled in sleep, yielder")
        #expect(name == "yielder")
    }
}
