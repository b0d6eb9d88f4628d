import Testing
@testable import AsyncIO
import TestSupport

@LoopActor
private func delayed<T: Sendable>(_ seconds: Double, _ value: T) -> LoopTask<T> {
    createTask { try await sleep(seconds, result: value) }
}

@LoopActor
private func failing(after seconds: Double, _ tag: String) -> LoopTask<Int> {
    createTask { () -> Int in
        try await sleep(seconds)
        throw Boom(tag: tag)
    }
}

@Suite(.suiteLimit) struct WaitTests {
    @Test func allCompletedReturnsEveryFutureDoneInArgumentOrder() throws {
        let names = try runLoop { _ -> [Int] in
            let tasks = [delayed(0.003, 1), delayed(0.001, 2), delayed(0.002, 3)]
            let (done, pending) = try await wait(tasks)
            #expect(pending.isEmpty)
            return try done.map { try $0.result() }
        }
        #expect(names == [1, 2, 3])
    }

    @Test func firstCompletedReturnsAsSoonAsOneIsDone() throws {
        let (done, pending) = try runLoop { _ -> ([Int], Int) in
            let tasks = [delayed(30, 1), delayed(0.001, 2), delayed(30, 3)]
            let (done, pending) = try await wait(tasks, returnWhen: .firstCompleted)
            for task in pending { task.cancel() }
            return (try done.map { try $0.result() }, pending.count)
        }
        #expect(done == [2])
        #expect(pending == 2)
    }

    @Test func firstExceptionReturnsAtTheFirstError() throws {
        let (doneCount, pendingCount, failed) = try runLoop { _ -> (Int, Int, Bool) in
            let tasks = [delayed(0.001, 1), failing(after: 0.002, "x"), delayed(30, 3)]
            let (done, pending) = try await wait(tasks, returnWhen: .firstException)
            for task in pending { task.cancel() }
            return (done.count, pending.count, (try? tasks[1].exception()) != nil)
        }
        #expect(doneCount == 2 && pendingCount == 1 && failed)
    }

    @Test func timeoutReturnsWithoutCancellingOrThrowing() throws {
        let (done, pendingCancelled) = try runLoop { _ -> (Int, Bool) in
            let tasks = [delayed(0.001, 1), delayed(30, 2)]
            let (done, pending) = try await wait(tasks, timeout: 0.01)
            let untouched = pending.allSatisfy { !$0.isCancelled }
            for task in pending { task.cancel() }
            return (done.count, untouched)
        }
        #expect(done == 1 && pendingCancelled)
    }

    @Test func waitAcceptsFuturesOfDifferentTypes() throws {
        let counts = try runLoop { loop -> [Int] in
            let futures: [any AnyFuture] = [delayed(0.001, 1), delayed(0.001, "two")]
            let (done, pending) = try await wait(futures)
            return [done.count, pending.count]
        }
        #expect(counts == [2, 0])
    }
}

@Suite(.suiteLimit) struct WaitForTests {
    @Test func returnsTheResultWithinTheTimeout() throws {
        #expect(try runLoop { _ in try await waitFor(delayed(0.001, "fast"), timeout: 5) } == "fast")
    }

    @Test func timeoutCancelsTheOperationAndThrowsTimeoutError() throws {
        let (error, innerCancelled) = try runLoop { _ -> (String, Bool) in
            let slow = delayed(30, "slow")
            do {
                _ = try await waitFor(slow, timeout: 0.01)
                return ("no error", slow.isCancelled)
            } catch {
                return ("\(error)", slow.isCancelled)
            }
        }
        #expect(error == "TimeoutError()")
        #expect(innerCancelled)
    }

    @Test func zeroTimeoutOnAPendingFutureTimesOutAtOnce() throws {
        let error = try runLoop { _ -> String in
            do { _ = try await waitFor(delayed(30, 1), timeout: 0); return "none" } catch { return "\(error)" }
        }
        #expect(error == "TimeoutError()")
    }

    @Test func errorsOfTheOperationPassThrough() throws {
        let error = try runLoop { _ -> Boom? in
            do { _ = try await waitFor(failing(after: 0.001, "op"), timeout: 5); return nil } catch let error as Boom { return error }
        }
        #expect(error == Boom(tag: "op"))
    }

    @Test func cancellingTheWaiterCancelsTheOperationAndIsNotATimeout() throws {
        let (outcome, innerCancelled) = try runLoop { loop -> (String, Bool) in
            let inner = delayed(30, 1)
            let waiter = loop.createTask { try await waitFor(inner, timeout: 10) }
            try await sleep(0.001)
            waiter.cancel()
            do { _ = try await waiter.value; return ("value", inner.isCancelled) } catch { return ("\(error)", inner.isCancelled) }
        }
        #expect(outcome == "CancelledError()")
        #expect(innerCancelled)
    }
}

@Suite(.suiteLimit) struct GatherTests {
    @Test func resultsComeBackInArgumentOrder() throws {
        let results = try runLoop { _ in try await gather([delayed(0.003, "a"), delayed(0.001, "b"), delayed(0.002, "c")]) }
        #expect(results == ["a", "b", "c"])
    }

    /// CPython hands on the child's own `CancelledError`, message included.
    @Test func cancellingATaskInGatherKeepsTheCancelMessage() throws {
        let message = try runLoop { loop -> String? in
            let waiter = loop.createTask { try await gather([delayed(10, 1), delayed(10, 2)]) }
            try await sleep(0.001)
            waiter.cancel(message: "stop")
            do {
                _ = try await waiter.value
                return nil
            } catch let error as CancelledError {
                return error.message
            }
        }
        #expect(message == "stop")
    }

    @Test func aCancelledChildFailsGatherWithItsMessage() throws {
        let message = try runLoop { loop -> String? in
            let child = delayed(10, 1)
            let gathering = loop.createTask { try await gather([child, delayed(10, 2)]) }
            try await sleep(0.001)
            child.cancel(message: "child stopped")
            do {
                _ = try await gathering.value
                return nil
            } catch let error as CancelledError {
                return error.message
            }
        }
        #expect(message == "child stopped")
    }

    @Test func gatherOfNothingIsEmpty() throws {
        #expect(try runLoop { _ in try await gather([Future<Int>]()) } == [])
    }

    @Test func firstErrorIsThrownAndTheOthersKeepRunning() throws {
        let (error, otherFinished) = try runLoop { _ -> (Boom?, Bool) in
            let other = delayed(0.01, 2)
            var caught: Boom?
            do { _ = try await gather([failing(after: 0.001, "first"), other]) } catch let error as Boom { caught = error }
            let stillRunning = !other.isDone
            _ = try await other.value
            return (caught, stillRunning && other.isDone && !other.isCancelled)
        }
        #expect(error == Boom(tag: "first"))
        #expect(otherFinished)
    }

    @Test func returnExceptionsPutsErrorsInPlace() throws {
        let outcomes = try runLoop { _ -> [String] in
            let cancelled = delayed(30, 3)
            cancelled.cancel()
            let results = try await gather([delayed(0.001, 1), failing(after: 0.001, "e"), cancelled], returnExceptions: true)
            return results.map { result in
                switch result {
                case .success(let value): "\(value)"
                case .failure(let error): "\(error)"
                }
            }
        }
        #expect(outcomes == ["1", "Boom(tag: \"e\")", "CancelledError()"])
    }

    @Test func cancellingTheAwaitingTaskCancelsEveryChild() throws {
        let (outcome, childrenCancelled) = try runLoop { loop -> (String, Bool) in
            let children = [delayed(30, 1), delayed(30, 2)]
            let waiter = loop.createTask { try await gather(children) }
            try await sleep(0.001)
            waiter.cancel()
            do { _ = try await waiter.value; return ("value", false) } catch {
                return ("\(error)", children.allSatisfy(\.isCancelled))
            }
        }
        #expect(outcome == "CancelledError()")
        #expect(childrenCancelled)
    }

    @Test func aCancelledChildMakesGatherThrowCancelledError() throws {
        let (outcome, siblingResult) = try runLoop { _ -> (String, Int?) in
            let child = delayed(30, 1)
            let sibling = delayed(0.001, 2)
            child.cancel()
            do { _ = try await gather([child, sibling]); return ("value", nil) } catch {
                // The sibling keeps running, as in asyncio.
                return ("\(error)", try? await sibling.value)
            }
        }
        #expect(outcome == "CancelledError()")
        #expect(siblingResult == 2)
    }
}

@Suite(.suiteLimit) struct AsCompletedTests {
    @Test func yieldsInCompletionOrder() throws {
        // Futures completed in a set order, not timers: first 1 alone while
        // the loop waits, then 2, 3 and 4 at once before it looks again.
        let order = try runLoop { loop -> [Int] in
            let futures = (0...4).map { _ in Future<Int>(loop: loop) }  // futures[i] gets i; 0 is unused
            loop.callSoon {
                try futures[1].setResult(1)
                loop.callSoon {
                    for i in 2...4 { try futures[i].setResult(i) }
                }
            }
            var order: [Int] = []
            for try await future in asCompleted([futures[3], futures[1], futures[4], futures[2]]) {
                order.append(try future.result())
            }
            return order
        }
        #expect(order == [1, 2, 3, 4])
    }

    @Test func throwsTimeoutErrorWhenTheRestAreTooSlow() throws {
        let (received, error) = try runLoop { _ -> ([Int], String) in
            var received: [Int] = []
            let slow = delayed(30, 2)
            defer { slow.cancel() }
            do {
                for try await future in asCompleted([delayed(0.001, 1), slow], timeout: 0.02) {
                    received.append(try future.result())
                }
                return (received, "none")
            } catch {
                return (received, "\(error)")
            }
        }
        #expect(received == [1])
        #expect(error == "TimeoutError()")
    }
}

@Suite(.suiteLimit) struct TaskGroupTests {
    @Test func waitsForEveryTask() throws {
        let results = try runLoop { _ -> [Int] in
            var tasks: [LoopTask<Int>] = []
            try await withLoopTaskGroup { group in
                tasks = [0.003, 0.001, 0.002].enumerated().map { i, delay in
                    group.createTask { try await sleep(delay, result: i) }
                }
            }
            let allDone = tasks.allSatisfy { $0.isDone }
            #expect(allDone)
            return try tasks.map { try $0.result() }
        }
        #expect(results == [0, 1, 2])
    }

    @Test func aFailureCancelsTheOthersInTheOrderTheyWereCreated() throws {
        let order = try runLoop { _ -> [Int] in
            var order: [Int] = []
            _ = try? await withLoopTaskGroup { group in
                for index in 0..<8 {
                    group.createTask {
                        do { try await sleep(30) } catch is CancelledError { order.append(index) }
                    }
                }
                group.createTask { throw Boom(tag: "child") }
            }
            return order
        }
        #expect(order == Array(0..<8))
    }

    @Test func aFailureCancelsTheRestAndTheBodyAndIsGrouped() throws {
        let (message, errors, siblingCancelled, bodyCancelled) = try runLoop { _ -> (String, [String], Bool, Bool) in
            var sibling: LoopTask<Int>?
            var bodyCancelled = false
            do {
                try await withLoopTaskGroup { group in
                    sibling = group.createTask { try await sleep(30, result: 1) }
                    group.createTask { () -> Int in
                        try await sleep(0.001)
                        throw Boom(tag: "child")
                    }
                    do { try await sleep(30) } catch let error as CancelledError { bodyCancelled = true; throw error }
                }
                return ("no error", [], false, bodyCancelled)
            } catch let group as ExceptionGroup {
                return (group.message, group.errors.map { "\($0)" }, sibling?.isCancelled ?? false, bodyCancelled)
            }
        }
        #expect(message == "unhandled errors in a TaskGroup")
        #expect(errors == ["Boom(tag: \"child\")"])
        #expect(siblingCancelled && bodyCancelled)
    }

    @Test func theEnclosingTaskIsNotLeftCancelled() throws {
        let cancelling = try runLoop { _ -> Int in
            _ = try? await withLoopTaskGroup { group in
                group.createTask { () -> Int in throw Boom() }
                try await sleep(30)
            }
            try await sleep(0.001)  // would throw if the group's cancellation leaked
            return currentLoopTask()!.cancelling()
        }
        #expect(cancelling == 0)
    }

    @Test func anErrorInTheBodyCancelsTheTasks() throws {
        let (errors, childCancelled) = try runLoop { _ -> ([String], Bool) in
            var child: LoopTask<Int>?
            do {
                try await withLoopTaskGroup { group in
                    child = group.createTask { try await sleep(30, result: 1) }
                    try await sleep(0)
                    throw Boom(tag: "body")
                }
                return ([], false)
            } catch let group as ExceptionGroup {
                return (group.errors.map { "\($0)" }, child?.isCancelled ?? false)
            }
        }
        #expect(errors == ["Boom(tag: \"body\")"])
        #expect(childCancelled)
    }

    @Test func cancellingTheEnclosingTaskCancelsTheGroup() throws {
        let (outcome, childCancelled) = try runLoop { loop -> (String, Bool) in
            var child: LoopTask<Int>?
            let outer = loop.createTask {
                try await withLoopTaskGroup { group in
                    child = group.createTask { try await sleep(30, result: 1) }
                }
            }
            try await sleep(0.001)
            outer.cancel()
            do { try await outer.value; return ("value", false) } catch { return ("\(error)", child?.isCancelled ?? false) }
        }
        #expect(outcome == "CancelledError()")
        #expect(childCancelled)
    }
}

@Suite(.suiteLimit) struct TimeoutTests {
    @Test func finishingInTimeReturnsTheValue() throws {
        let (value, expired) = try runLoop { _ -> (Int, Bool) in
            var scope: Timeout?
            let value = try await timeout(5) { cm in scope = cm; return try await sleep(0.001, result: 7) }
            return (value, scope!.expired)
        }
        #expect(value == 7 && !expired)
    }

    @Test func expiringThrowsTimeoutError() throws {
        let (error, expired) = try runLoop { _ -> (String, Bool) in
            var scope: Timeout?
            do {
                try await timeout(0.005) { cm in scope = cm; try await sleep(30) }
                return ("none", false)
            } catch {
                return ("\(error)", scope!.expired)
            }
        }
        #expect(error == "TimeoutError()")
        #expect(expired)
    }

    @Test func rescheduleMovesTheDeadline() throws {
        let value = try runLoop { loop -> String in
            try await timeout(0.001) { cm in
                cm.reschedule(loop.time() + 5)
                return try await sleep(0.01, result: "in time")
            }
        }
        #expect(value == "in time")
    }

    @Test func noDeadlineNeverExpires() throws {
        let value = try runLoop { _ in try await timeout(nil) { try await sleep(0.001, result: 1) } }
        #expect(value == 1)
    }

    @Test func anOutsideCancellationStaysACancellation() throws {
        let outcome = try runLoop { loop -> String in
            let task = loop.createTask { try await timeout(10) { try await sleep(30) } }
            try await sleep(0.001)
            task.cancel()
            do { try await task.value; return "value" } catch { return "\(error)" }
        }
        #expect(outcome == "CancelledError()")
    }

    @Test func deadlineAlreadyPassedExpiresBeforeTheBodyResumes() throws {
        let error = try runLoop { loop -> String in
            do { try await timeoutAt(loop.time() - 1) { try await sleep(30) }; return "none" } catch { return "\(error)" }
        }
        #expect(error == "TimeoutError()")
    }
}
