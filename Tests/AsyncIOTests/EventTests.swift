import Testing
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct EventTests {
    @Test func setAndClearChangeTheFlag() throws {
        let states = try runLoop { _ -> [String] in
            let event = Event()
            var states = ["\(event.isSet) \(event)"]
            event.set()
            states.append("\(event.isSet) \(event)")
            event.set()  // setting twice changes nothing
            states.append("\(event.isSet)")
            event.clear()
            states.append("\(event.isSet) \(event)")
            return states
        }
        #expect(states == ["false <Event [unset]>", "true <Event [set]>", "true", "false <Event [unset]>"])
    }

    @Test func waitReturnsAtOnceWhileSet() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let event = Event()
            event.set()
            _ = loop.createTask { log("other task ran") }
            try await event.wait()
            log("wait returned")
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["wait returned", "other task ran"])
    }

    @Test func setWakesEveryWaiterInTheOrderTheyWaited() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let event = Event()
            let tasks = (0..<4).map { i in
                loop.createTask {
                    try await event.wait()
                    log("waiter \(i) woke")
                }
            }
            try await sleep(0)
            #expect(event.description == "<Event [unset, waiters:4]>")
            log("setting")
            event.set()
            _ = try await gather(tasks)
            #expect(event.description == "<Event [set]>")
            return log.entries
        }
        #expect(log == ["setting", "waiter 0 woke", "waiter 1 woke", "waiter 2 woke", "waiter 3 woke"])
    }

    @Test func clearRightAfterSetStillWakesTheWaiters() throws {
        let woke = try runLoop { loop -> Bool in
            let event = Event()
            let waiter = loop.createTask { try await event.wait() }
            try await sleep(0)
            event.set()
            event.clear()
            try await waiter.value
            return waiter.isDone && !waiter.isCancelled
        }
        #expect(woke)
    }

    @Test func waitAfterClearSuspendsAgain() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let event = Event()
            event.set()
            event.clear()
            let waiter = loop.createTask {
                try await event.wait()
                log("woke")
            }
            try await iterations(3)
            log("setting")
            event.set()
            try await waiter.value
            return log.entries
        }
        #expect(log == ["setting", "woke"])
    }

    @Test func cancelledWaiterLeavesAndTheOthersStillWake() throws {
        let (log, description) = try runLoop { loop -> ([String], String) in
            let log = Log()
            let event = Event()
            let tasks = (0..<3).map { i in
                loop.createTask {
                    do { try await event.wait() } catch { log("waiter \(i): \(error)"); throw error }
                    log("waiter \(i) woke")
                }
            }
            try await sleep(0)
            tasks[1].cancel()
            try await sleep(0)
            let afterCancel = event.description
            event.set()
            _ = try await gather(tasks, returnExceptions: true)
            return (log.entries, afterCancel)
        }
        #expect(log == ["waiter 1: CancelledError()", "waiter 0 woke", "waiter 2 woke"])
        #expect(description == "<Event [unset, waiters:2]>")
    }

    @Test func waiterCancelledAfterSetThrowsCancelledError() throws {
        let (outcome, waiters) = try runLoop { loop -> (String, Int) in
            let event = Event()
            let waiter = loop.createTask { try await event.wait() }
            try await sleep(0)
            event.set()
            waiter.cancel()  // woken, but not yet run
            let outcome = await errorOf { try await waiter.value }
            return (outcome, event.waiters.count)
        }
        #expect(outcome == "CancelledError()")
        #expect(waiters == 0)
    }

    @Test func cancellingAWaiterThrowsItsMessageAndLeavesTheQueue() throws {
        let (outcome, waiters) = try runLoop { loop -> (String, Int) in
            let event = Event()
            let waiter = loop.createTask { try await event.wait() }
            try await sleep(0)
            waiter.cancel(message: "stop waiting")
            let waiters = event.waiters.count  // it left at once
            return (await errorOf { try await waiter.value }, waiters)
        }
        #expect(outcome == "CancelledError('stop waiting')")
        #expect(waiters == 0)
    }

    @Test func aTaskCancelledWhileRunningThrowsAtItsWait() throws {
        let (outcome, waiters) = try runLoop { loop -> (String, Int) in
            let event = Event()
            var task: LoopTask<Void>?
            task = loop.createTask {
                task?.cancel(message: "early")  // a request to deliver at the next await
                try await event.wait()
            }
            let outcome = await errorOf { try await task!.value }
            return (outcome, event.waiters.count)
        }
        #expect(outcome == "CancelledError('early')")
        #expect(waiters == 0)
    }

    @Test func aSwiftTaskOnTheLoopCanWait() throws {
        let woke = try runLoop { loop -> Bool in
            let event = Event()
            let done = Future<Bool>(loop: loop)
            let operation: @LoopActor () async throws -> Void = {
                try await event.wait()
                try done.setResult(true)
            }
            Task(executorPreference: loop, operation: operation)
            try await sleep(0.002)
            #expect(event.waiters.count == 1)
            event.set()
            return try await done.value
        }
        #expect(woke)
    }
}
