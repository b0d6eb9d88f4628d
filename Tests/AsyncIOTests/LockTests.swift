import Testing
@testable import AsyncIO
import TestSupport

/// Runs `count` loop iterations, so tasks woken meanwhile get to run.
@LoopActor
func iterations(_ count: Int) async throws {
    for _ in 0..<count { try await sleep(0) }
}

/// The error `body` throws, described; "no error" if it returns.
@LoopActor
func errorOf(_ body: () async throws -> Void) async -> String {
    do {
        try await body()
        return "no error"
    } catch {
        return "\(error)"
    }
}

@Suite(.suiteLimit) struct LockTests {
    @Test func acquireOfAFreeLockTakesItWithoutSuspending() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let lock = Lock()
            #expect(!lock.isLocked)
            _ = loop.createTask { log("other task ran") }
            try await lock.acquire()
            log("acquired, locked: \(lock.isLocked)")
            try lock.release()
            log("released, locked: \(lock.isLocked)")
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["acquired, locked: true", "released, locked: false", "other task ran"])
    }

    @Test func releasingAnUnlockedLockThrows() throws {
        let errors = try runLoop { _ -> [String] in
            let lock = Lock()
            let first = await errorOf { try lock.release() }
            try await lock.acquire()
            try lock.release()
            let second = await errorOf { try lock.release() }
            #expect(throws: SynchronizationError.lockNotAcquired) { try lock.release() }
            return [first, second]
        }
        #expect(errors == ["RuntimeError('Lock is not acquired.')", "RuntimeError('Lock is not acquired.')"])
    }

    @Test func waitersGetTheLockInTheOrderTheyAsked() throws {
        let order = try runLoop { loop -> [Int] in
            let lock = Lock()
            var order: [Int] = []
            try await lock.acquire()
            let tasks = (0..<5).map { i in
                loop.createTask {
                    try await lock.acquire()
                    order.append(i)
                    try await sleep(0)  // hold it across an iteration
                    try lock.release()
                }
            }
            try await sleep(0)
            #expect(lock.description == "<Lock [locked, waiters:5]>")
            try lock.release()
            _ = try await gather(tasks)
            #expect(lock.description == "<Lock [unlocked]>")
            return order
        }
        #expect(order == [0, 1, 2, 3, 4])
    }

    @Test func aTaskArrivingAfterReleaseQueuesBehindTheWokenWaiter() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let lock = Lock()
            try await lock.acquire()
            let waiter = loop.createTask {
                try await lock.acquire()
                log("waiter acquired")
                try lock.release()
            }
            try await sleep(0)
            try lock.release()  // the waiter is woken but has not run yet
            #expect(!lock.isLocked)
            try await lock.acquire()  // must not barge in
            log("newcomer acquired")
            try lock.release()
            try await waiter.value
            return log.entries
        }
        #expect(log == ["waiter acquired", "newcomer acquired"])
    }

    @Test func withLockReleasesOnReturnOnErrorAndOnCancellation() throws {
        let outcome = try runLoop { loop -> [String] in
            let lock = Lock()
            var outcome: [String] = []

            let value = try await lock.withLock { () -> Int in
                outcome.append("inside, locked: \(lock.isLocked)")
                return 7
            }
            outcome.append("returned \(value), locked: \(lock.isLocked)")

            let error = await errorOf { try await lock.withLock { throw Boom() } }
            outcome.append("threw \(error), locked: \(lock.isLocked)")

            let task = loop.createTask { try await lock.withLock { try await sleep(30) } }
            try await sleep(0)
            outcome.append("sleeping inside, locked: \(lock.isLocked)")
            task.cancel()
            let cancelled = await errorOf { try await task.value }
            outcome.append("cancelled: \(cancelled), locked: \(lock.isLocked)")
            return outcome
        }
        #expect(outcome == [
            "inside, locked: true",
            "returned 7, locked: false",
            "threw Boom(tag: \"boom\"), locked: false",
            "sleeping inside, locked: true",
            "cancelled: CancelledError(), locked: false",
        ])
    }

    @Test func cancelledWaiterLeavesTheLineAndTheNextOneGetsTheLock() throws {
        let (log, description) = try runLoop { loop -> ([String], String) in
            let log = Log()
            let lock = Lock()
            try await lock.acquire()
            let first = loop.createTask {
                do { try await lock.acquire() } catch { log("first: \(error)"); throw error }
            }
            let second = loop.createTask {
                try await lock.acquire()
                log("second acquired")
                try lock.release()
            }
            try await sleep(0)
            first.cancel()
            try await sleep(0)
            try lock.release()
            try await second.value
            #expect(first.isCancelled)
            return (log.entries, lock.description)
        }
        #expect(log == ["first: CancelledError()", "second acquired"])
        #expect(description == "<Lock [unlocked]>")
    }

    /// asyncio bpo-27585: a waiter woken by `release()` and
    /// cancelled before it could run must hand its turn to the next waiter,
    /// or the lock stays free while everyone waits.
    @Test func waiterCancelledAfterItsWakeUpPassesTheTurnOn() throws {
        let (log, locked) = try runLoop { loop -> ([String], Bool) in
            let log = Log()
            let lock = Lock()
            try await lock.acquire()
            let first = loop.createTask {
                do { try await lock.acquire() } catch { log("first: \(error)"); throw error }
                log("first acquired")  // not reached
            }
            let second = loop.createTask {
                try await lock.acquire()
                log("second acquired")
            }
            try await sleep(0)
            try lock.release()  // wakes `first`...
            first.cancel()      // ...which is cancelled before it runs
            try await iterations(3)
            #expect(second.isDone)
            return (log.entries, lock.isLocked)
        }
        #expect(log == ["first: CancelledError()", "second acquired"])
        #expect(locked)  // held by `second`, which never released it
    }

    /// asyncio bpo-32734: cancelling the first waiter and releasing in the
    /// same step must let exactly one of the others in.
    @Test func cancelThenReleaseInOneStepLetsExactlyOneWaiterIn() throws {
        let (holders, order) = try runLoop { loop -> (Int, [Int]) in
            let lock = Lock()
            var holders = 0, mostHolders = 0
            var order: [Int] = []
            try await lock.acquire()
            let tasks = (0..<3).map { i in
                loop.createTask {
                    try await lock.acquire()
                    holders += 1
                    mostHolders = max(mostHolders, holders)
                    order.append(i)
                    try await sleep(0)
                    holders -= 1
                    try lock.release()
                }
            }
            try await sleep(0)
            tasks[0].cancel()
            try lock.release()
            _ = try await gather(tasks, returnExceptions: true)
            return (mostHolders, order)
        }
        #expect(holders == 1)
        #expect(order == [1, 2])
    }

    @Test func freeLockWithOnlyCancelledWaitersCanBeTakenAtOnce() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let lock = Lock()
            try await lock.acquire()
            let waiter = loop.createTask { try await lock.acquire() }
            try await sleep(0)
            waiter.cancel()  // its waiter is cancelled; the task has not run yet
            try lock.release()
            try await lock.acquire()  // nobody alive is in line: no need to wait
            log("reacquired with \(lock.waiters.count) cancelled waiter")
            _ = await errorOf { try await waiter.value }
            log("after the waiter left: \(lock)")
            try lock.release()
            return log.entries
        }
        #expect(log == ["reacquired with 1 cancelled waiter", "after the waiter left: <Lock [locked]>"])
    }

    @Test func lockCreatedOutsideALoopBindsToTheFirstLoopItWaitsOn() throws {
        let lock = Lock()
        try runLoop { loop in
            try await lock.acquire()
            let waiter = loop.createTask { try await lock.acquire() }  // waits: binds the lock
            try await sleep(0)
            try lock.release()
            try await waiter.value
            try lock.release()
        }
        let error = try runLoop { _ -> String in
            try await lock.acquire()  // no wait, so no loop is needed
            return await errorOf { try await lock.acquire() }
        }
        #expect(error == "RuntimeError('<Lock [locked]> is bound to a different event loop')")
    }
}
