import Testing
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct SemaphoreTests {
    @Test func acquireTakesASlotAndReleaseGivesItBack() throws {
        let states = try runLoop { _ -> [String] in
            let semaphore = Semaphore(value: 2)
            var states = [semaphore.description]
            try await semaphore.acquire()
            states.append(semaphore.description)
            try await semaphore.acquire()
            states.append(semaphore.description)
            semaphore.release()
            states.append(semaphore.description)
            semaphore.release()
            semaphore.release()  // a plain semaphore may go above its initial value
            states.append(semaphore.description)
            return states
        }
        #expect(states == [
            "<Semaphore [unlocked, value:2]>",
            "<Semaphore [unlocked, value:1]>",
            "<Semaphore [locked]>",
            "<Semaphore [unlocked, value:1]>",
            "<Semaphore [unlocked, value:3]>",
        ])
    }

    @Test func defaultValueIsOneAndZeroStartsLocked() throws {
        let states = try runLoop { _ -> [Bool] in
            [Semaphore().isLocked, Semaphore().value == 1, Semaphore(value: 0).isLocked]
        }
        #expect(states == [false, true, true])
    }

    @Test func waitersGetSlotsInTheOrderTheyAsked() throws {
        let order = try runLoop { loop -> [Int] in
            let semaphore = Semaphore(value: 0)
            var order: [Int] = []
            let tasks = (0..<5).map { i in
                loop.createTask {
                    try await semaphore.acquire()
                    order.append(i)
                }
            }
            try await sleep(0)
            #expect(semaphore.description == "<Semaphore [locked, waiters:5]>")
            semaphore.release()
            try await iterations(2)
            #expect(order == [0])
            for _ in 0..<4 { semaphore.release() }
            _ = try await gather(tasks)
            return order
        }
        #expect(order == [0, 1, 2, 3, 4])
    }

    @Test func aTaskArrivingWhileASlotIsPromisedQueuesBehind() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let semaphore = Semaphore(value: 0)
            let waiter = loop.createTask {
                try await semaphore.acquire()
                log("waiter acquired")
            }
            try await sleep(0)
            semaphore.release()  // promised to the waiter, which has not run
            #expect(semaphore.isLocked)
            let newcomer = loop.createTask {
                try await semaphore.acquire()
                log("newcomer acquired")
            }
            try await iterations(3)
            log("releasing again")
            semaphore.release()
            _ = try await gather(waiter, newcomer)
            return log.entries
        }
        #expect(log == ["waiter acquired", "releasing again", "newcomer acquired"])
    }

    /// A task that asks while a woken waiter has not run yet queues behind
    /// it even if a slot is free, and the woken waiter, taking its slot,
    /// wakes it (asyncio 3.11.1+).
    @Test func wokenWaiterWakesThoseQueuedBehindItWhileSlotsAreFree() throws {
        let (log, secondDone) = try runLoop { loop -> ([String], Bool) in
            let log = Log()
            let semaphore = Semaphore(value: 0)
            let first = loop.createTask {
                try await semaphore.acquire()
                log("first acquired")
            }
            try await sleep(0)
            // Its first step runs before first wakes up.
            let second = loop.createTask {
                try await semaphore.acquire()
                log("second acquired")
            }
            semaphore.release()  // wakes first
            semaphore.release()  // no one else waits yet: the slot stays free
            try await iterations(3)
            #expect(first.isDone)
            return (log.entries, second.isDone)
        }
        #expect(log == ["first acquired", "second acquired"])
        #expect(secondDone)
    }

    @Test func cancelledWaiterTakesNoSlot() throws {
        let (log, value) = try runLoop { loop -> ([String], Int) in
            let log = Log()
            let semaphore = Semaphore(value: 0)
            let first = loop.createTask {
                do { try await semaphore.acquire() } catch { log("first: \(error)"); throw error }
            }
            let second = loop.createTask {
                try await semaphore.acquire()
                log("second acquired")
            }
            try await sleep(0)
            first.cancel()
            try await sleep(0)
            semaphore.release()
            try await second.value
            return (log.entries, semaphore.value)
        }
        #expect(log == ["first: CancelledError()", "second acquired"])
        #expect(value == 0)
    }

    /// asyncio gh-90155: a waiter woken by `release()` and cancelled before
    /// it ran used to lose the slot it had been given.
    @Test func waiterCancelledAfterItsWakeUpGivesTheSlotToTheNext() throws {
        let (log, description) = try runLoop { loop -> ([String], String) in
            let log = Log()
            let semaphore = Semaphore(value: 0)
            let first = loop.createTask {
                do { try await semaphore.acquire() } catch { log("first: \(error)"); throw error }
            }
            let second = loop.createTask {
                try await semaphore.acquire()
                log("second acquired")
            }
            try await sleep(0)
            semaphore.release()  // wakes first...
            first.cancel()       // ...which is cancelled before it runs
            try await iterations(3)
            #expect(second.isDone)
            semaphore.release()  // second's slot
            return (log.entries, semaphore.description)
        }
        #expect(log == ["first: CancelledError()", "second acquired"])
        #expect(description == "<Semaphore [unlocked, value:1]>")
    }

    @Test func withLockReleasesTheSlotOnErrorAndCancellation() throws {
        let values = try runLoop { loop -> [Int] in
            let semaphore = Semaphore(value: 1)
            _ = await errorOf { try await semaphore.withLock { throw Boom() } }
            let afterError = semaphore.value
            let task = loop.createTask { try await semaphore.withLock { try await sleep(30) } }
            try await sleep(0)
            let during = semaphore.value
            task.cancel()
            _ = await errorOf { try await task.value }
            return [afterError, during, semaphore.value]
        }
        #expect(values == [1, 0, 1])
    }

    @Test func boundedSemaphoreRejectsAReleaseTooMany() throws {
        let (log, error) = try runLoop { _ -> ([String], String) in
            let semaphore = BoundedSemaphore(value: 2)
            var log = [semaphore.description]
            try await semaphore.acquire()
            log.append(semaphore.description)
            try semaphore.release()
            log.append(semaphore.description)
            let error = await errorOf { try semaphore.release() }
            log.append(semaphore.description)
            return (log, error)
        }
        #expect(log == [
            "<BoundedSemaphore [unlocked, value:2]>",
            "<BoundedSemaphore [unlocked, value:1]>",
            "<BoundedSemaphore [unlocked, value:2]>",
            "<BoundedSemaphore [unlocked, value:2]>",
        ])
        #expect(error == "ValueError('BoundedSemaphore released too many times')")
    }

    @Test func boundedSemaphoreReleaseWakesAWaiter() throws {
        let acquired = try runLoop { loop -> Bool in
            let semaphore = BoundedSemaphore(value: 1)
            try await semaphore.acquire()
            #expect(semaphore.isLocked)
            let waiter = loop.createTask { try await semaphore.acquire() }
            try await sleep(0)
            try semaphore.release()
            try await waiter.value
            try semaphore.release()
            return waiter.isDone && !waiter.isCancelled && semaphore.value == 1
        }
        #expect(acquired)
    }
}
