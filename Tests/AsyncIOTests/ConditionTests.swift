import Testing
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct ConditionTests {
    @Test func waitAndNotifyNeedTheLock() throws {
        let errors = try runLoop { _ -> [String] in
            let condition = Condition()
            return [
                await errorOf { try await condition.wait() },
                await errorOf { try condition.notify() },
                await errorOf { try condition.notifyAll() },
                await errorOf { try condition.release() },
            ]
        }
        #expect(errors == [
            "RuntimeError('cannot wait on un-acquired lock')",
            "RuntimeError('cannot notify on un-acquired lock')",
            "RuntimeError('cannot notify on un-acquired lock')",
            "RuntimeError('Lock is not acquired.')",
        ])
    }

    @Test func waitReleasesTheLockAndHoldsItAgainOnReturn() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let condition = Condition()
            let waiter = loop.createTask {
                try await condition.withLock {
                    try await condition.wait()
                    log("woke holding the lock: \(condition.isLocked)")
                }
            }
            try await sleep(0)
            log("while waiting, locked: \(condition.isLocked)")
            try await condition.withLock {
                try condition.notify()
                log("notified")
                try await iterations(2)
                log("notifier still holds it")
            }
            try await waiter.value
            log("after: \(condition)")
            return log.entries
        }
        #expect(log == [
            "while waiting, locked: false",
            "notified",
            "notifier still holds it",
            "woke holding the lock: true",
            "after: <Condition [unlocked]>",
        ])
    }

    @Test func notifyWakesAtMostNWaitersOldestFirst() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let condition = Condition()
            let tasks = (0..<5).map { i in
                loop.createTask {
                    try await condition.withLock {
                        try await condition.wait()
                        log("waiter \(i) woke")
                    }
                }
            }
            try await sleep(0)
            #expect(condition.description == "<Condition [unlocked, waiters:5]>")
            try await condition.withLock { try condition.notify(2) }
            try await iterations(3)
            log("one more")
            try await condition.withLock { try condition.notify() }
            try await iterations(3)
            log("the rest")
            try await condition.withLock { try condition.notifyAll() }
            _ = try await gather(tasks)
            return log.entries
        }
        #expect(log == [
            "waiter 0 woke", "waiter 1 woke", "one more", "waiter 2 woke",
            "the rest", "waiter 3 woke", "waiter 4 woke",
        ])
    }

    @Test func notifyWithNoWaitersDoesNothing() throws {
        let description = try runLoop { _ -> String in
            let condition = Condition()
            try await condition.withLock {
                try condition.notify(3)
                try condition.notifyAll()
            }
            return condition.description
        }
        #expect(description == "<Condition [unlocked]>")
    }

    @Test func waitForChecksThePredicateFirstAndAfterEveryWakeUp() throws {
        let (checks, result) = try runLoop { loop -> (Int, Bool) in
            let condition = Condition()
            var value = 0
            var checks = 0
            let waiter = loop.createTask { () -> Bool in
                try await condition.withLock {
                    try await condition.waitFor {
                        checks += 1
                        return value >= 2
                    }
                }
            }
            for _ in 0..<2 {
                try await sleep(0)
                try await condition.withLock {
                    value += 1
                    try condition.notifyAll()
                }
            }
            let result = try await waiter.value
            return (checks, result)
        }
        #expect(checks == 3)  // before waiting, then after each of two notifications
        #expect(result)
    }

    @Test func waitForATruePredicateDoesNotWait() throws {
        // A callback scheduled just before the call runs as soon as the
        // task gives way: if it has not run, waitFor did not suspend.
        let (result, checks, otherRan) = try runLoop { loop -> (Bool, Int, Bool) in
            let condition = Condition()
            return try await condition.withLock {
                var otherRan = false, checks = 0
                loop.callSoon { otherRan = true }
                let result = try await condition.waitFor { checks += 1; return true }
                return (result, checks, otherRan)
            }
        }
        #expect(result)
        #expect(checks == 1)
        #expect(!otherRan)
    }

    @Test func conditionOverAGivenLockSharesIt() throws {
        let states = try runLoop { _ -> [Bool] in
            let lock = Lock()
            let condition = Condition(lock: lock)
            try await lock.acquire()
            let whileHeld = condition.isLocked
            try condition.notify()  // allowed: the shared lock is held
            try condition.release()
            return [whileHeld, lock.isLocked, condition.lock === lock]
        }
        #expect(states == [true, false, true])
    }

    /// A cancelled `wait()` takes the lock back before throwing, so the
    /// caller's `withLock` releases a lock it really holds (asyncio bpo-22970).
    @Test func cancelledWaitTakesTheLockBackBeforeThrowing() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let condition = Condition()
            let waiter = loop.createTask {
                try await condition.withLock {
                    do { try await condition.wait() } catch {
                        log("waiter: \(error), holding the lock: \(condition.isLocked)")
                        throw error
                    }
                }
            }
            try await sleep(0)
            try await condition.acquire()
            waiter.cancel()
            try await iterations(3)
            log("releasing")  // the waiter cannot finish before this
            try condition.release()
            _ = await errorOf { try await waiter.value }
            log("after: \(condition)")
            return log.entries
        }
        #expect(log == ["releasing", "waiter: CancelledError(), holding the lock: true", "after: <Condition [unlocked]>"])
    }

    /// asyncio gh-112202: a waiter notified and then cancelled before it
    /// ran used to swallow the notification; it must pass it on.
    @Test func waiterCancelledAfterNotifyPassesTheNotificationOn() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let condition = Condition()
            let tasks = (0..<2).map { i in
                loop.createTask {
                    try await condition.withLock {
                        do { try await condition.wait() } catch { log("waiter \(i): \(error)"); throw error }
                        log("waiter \(i) woke")
                    }
                }
            }
            try await sleep(0)
            try await condition.withLock {
                try condition.notify()  // wakes waiter 0...
                tasks[0].cancel()       // ...which is cancelled before it runs
            }
            try await iterations(4)
            log("waiter 1 done: \(tasks[1].isDone)")
            return log.entries
        }
        #expect(log == ["waiter 0: CancelledError()", "waiter 1 woke", "waiter 1 done: true"])
    }

    /// A waiter cancelled while taking the lock back keeps trying, and
    /// throws once it holds the lock.
    @Test func cancellationWhileTakingTheLockBackIsDeliveredAfterwards() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let condition = Condition()
            let waiter = loop.createTask {
                try await condition.withLock {
                    do { try await condition.wait() } catch {
                        log("waiter: \(error), holding the lock: \(condition.isLocked)")
                        throw error
                    }
                    log("not reached")
                }
            }
            try await sleep(0)
            try await condition.acquire()
            try condition.notify()
            try await iterations(2)  // the waiter now waits for the lock
            waiter.cancel()
            try await iterations(2)
            log("releasing")
            try condition.release()
            _ = await errorOf { try await waiter.value }
            log("after: \(condition)")
            return log.entries
        }
        #expect(log == ["releasing", "waiter: CancelledError(), holding the lock: true", "after: <Condition [unlocked]>"])
    }
}
