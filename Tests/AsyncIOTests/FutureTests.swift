import Testing
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct FutureTests {
    @Test func pendingFutureHasNoResult() throws {
        try runLoop { loop in
            let future = Future<String>(loop: loop)
            #expect(!future.isDone && !future.isCancelled)
            #expect(throws: InvalidStateError("Result is not ready.")) { try future.result() }
            #expect(throws: InvalidStateError("Exception is not set.")) { try future.exception() }
            #expect(future.repr == "<Future pending>")
        }
    }

    @Test func resultCanBeSetOnce() throws {
        try runLoop { loop in
            let future = Future<String>(loop: loop)
            try future.setResult("the result")
            #expect(future.isDone)
            #expect(try future.result() == "the result")
            #expect(try future.exception() == nil)
            #expect(throws: InvalidStateError("invalid state: FINISHED")) { try future.setResult("again") }
            #expect(throws: InvalidStateError("invalid state: FINISHED")) { try future.setException(Boom()) }
            #expect(!future.cancel())
            #expect(future.repr == "<Future finished result='the result'>")
        }
    }

    @Test func exceptionIsRethrownByResultAndAwait() throws {
        let caught = try runLoop { loop -> Boom? in
            let future = Future<Int>(loop: loop)
            try future.setException(Boom(tag: "set"))
            #expect(throws: Boom(tag: "set")) { try future.result() }
            #expect((try future.exception()) as? Boom == Boom(tag: "set"))
            do { _ = try await future.value; return nil } catch let error as Boom { return error }
        }
        #expect(caught == Boom(tag: "set"))
    }

    @Test func cancelledFutureRaisesCancelledErrorWithMessage() throws {
        try runLoop { loop in
            let future = Future<Int>(loop: loop)
            #expect(future.cancel(message: "stop"))
            #expect(future.isCancelled && future.isDone)
            #expect(!future.cancel())
            #expect(throws: CancelledError("stop")) { try future.result() }
            #expect(throws: InvalidStateError("invalid state: CANCELLED")) { try future.setResult(1) }
            #expect(future.repr == "<Future cancelled>")
        }
    }

    @Test func doneCallbacksRunThroughTheLoopInRegistrationOrder() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let future = Future<Int>(loop: loop)
            future.addDoneCallback { log("first \((try? $0.result()) ?? -1)") }
            let removed = future.addDoneCallback { _ in log("removed") }
            future.addDoneCallback { _ in log("second") }
            #expect(future.removeDoneCallback(removed) == 1)
            #expect(future.removeDoneCallback(removed) == 0)
            try future.setResult(7)
            log("set")  // callbacks are scheduled, not called, by setResult
            try await sleep(0)
            future.addDoneCallback { _ in log("added when done") }
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["set", "first 7", "second", "added when done"])
    }

    @Test func aLoneDoneCallbackRunsWhereAsyncioSchedulesIt() throws {
        // Completing the future schedules its callback at the back of the
        // ready queue; removing it then no longer stops it, as in asyncio.
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let future = Future<Int>(loop: loop)
            let token = future.addDoneCallback { log("callback \((try? $0.result()) ?? -1)") }
            loop.callSoon { log("soon before") }
            try future.setResult(3)
            loop.callSoon { log("soon after") }
            log("removed after done: \(future.removeDoneCallback(token))")
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["removed after done: 0", "soon before", "callback 3", "soon after"])
    }

    @Test func awaitingADoneFutureDoesNotSuspend() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let future = Future<Int>(loop: loop)
            try future.setResult(1)
            loop.callSoon { log("callback") }
            _ = try await future.value
            log("awaited")
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["awaited", "callback"])
    }

    @Test func waitersWakeInTheOrderTheyAwaited() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let future = Future<Int>(loop: loop)
            let tasks = (0..<5).map { i in
                loop.createTask { () -> Int in
                    let value = try await future.value
                    log("task \(i) got \(value)")
                    return value
                }
            }
            try await sleep(0)
            try future.setResult(9)
            _ = try await gather(tasks)
            return log.entries
        }
        #expect(log == (0..<5).map { "task \($0) got 9" })
    }
}
