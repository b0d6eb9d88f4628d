import Testing
@testable import AsyncIO
import TestSupport

/// `shield` and `Barrier`, against CPython's behaviour.
@Suite(.suiteLimit) struct ShieldTests {
    @Test func cancellingTheAwaiterLeavesTheShieldedTaskRunning() throws {
        let (awaiterCancelled, innerResult) = try runLoop { loop -> (Bool, Int) in
            let inner = loop.createTask { () -> Int in
                try await sleep(0.02)
                return 7
            }
            let awaiter = loop.createTask { try await shield(inner).value }
            try await sleep(0.001)
            awaiter.cancel()
            var awaiterCancelled = false
            do { _ = try await awaiter.value } catch is CancelledError { awaiterCancelled = true }
            return (awaiterCancelled, try await inner.value)
        }
        #expect(awaiterCancelled)
        #expect(innerResult == 7)
    }

    @Test func theShieldFollowsTheInnerResultErrorAndCancellation() throws {
        struct Boom: Error {}
        let outcomes = try runLoop { loop -> [String] in
            let succeeding = shield { () -> Int in 1 }
            let failing = shield { () -> Int in throw Boom() }
            let inner = Future<Int>(loop: loop)
            let cancelledInside = shield(inner)
            inner.cancel()
            var outcomes: [String] = []
            for future in [succeeding, failing, cancelledInside] {
                do { outcomes.append("\(try await future.value)") }
                catch is CancelledError { outcomes.append("cancelled") }
                catch { outcomes.append("error") }
            }
            let done = Future<Int>(loop: loop)
            try done.setResult(3)
            outcomes.append(shield(done) === done ? "same" : "new")
            return outcomes
        }
        #expect(outcomes == ["1", "error", "cancelled", "same"])
    }
}

@Suite(.suiteLimit) struct BarrierTests {
    @Test func partiesGoOnTogetherWithDistinctIndexesAndRoundsRepeat() throws {
        let (rounds, log) = try runLoop { loop -> ([[Int]], [String]) in
            let barrier = Barrier(parties: 3)
            var log: [String] = []
            var rounds: [[Int]] = []
            for round in 0..<2 {
                let tasks = (0..<3).map { i in
                    loop.createTask { () -> Int in
                        log.append("r\(round) \(i) arrives")
                        let index = try await barrier.wait()
                        log.append("r\(round) \(i) passes")
                        return index
                    }
                }
                rounds.append(try await gather(tasks).sorted())
                #expect(barrier.waiting == 0)
            }
            return (rounds, log)
        }
        #expect(rounds == [[0, 1, 2], [0, 1, 2]])
        // Nobody passes before all three have arrived.
        for round in 0..<2 {
            let lastArrival = log.lastIndex { $0.hasPrefix("r\(round)") && $0.hasSuffix("arrives") }!
            let firstPass = log.firstIndex { $0.hasPrefix("r\(round)") && $0.hasSuffix("passes") }!
            #expect(lastArrival < firstPass)
        }
    }

    @Test func abortBreaksWaitersAndLaterWaitsUntilReset() throws {
        let outcomes = try runLoop { loop -> [String] in
            let barrier = Barrier(parties: 3)
            let waiter = loop.createTask { () -> String in
                do { return "passed \(try await barrier.wait())" } catch is BrokenBarrierError { return "broken" }
            }
            try await sleep(0)
            #expect(barrier.waiting == 1)
            try await barrier.abort()
            var outcomes = [try await waiter.value]
            do { try await barrier.wait(); outcomes.append("passed") } catch is BrokenBarrierError { outcomes.append("broken") }
            outcomes.append(barrier.isBroken ? "isBroken" : "whole")
            try await barrier.reset()
            outcomes.append(barrier.isBroken ? "isBroken" : "whole")
            let single = Barrier(parties: 1)
            outcomes.append("single \(try await single.wait())")
            return outcomes
        }
        #expect(outcomes == ["broken", "broken", "isBroken", "whole", "single 0"])
    }

    @Test func resetWhileWaitingBreaksTheWaitersThenFillsAgain() throws {
        let (first, second) = try runLoop { loop -> ([String], [Int]) in
            let barrier = Barrier(parties: 2)
            let waiter = loop.createTask { () -> String in
                do { try await barrier.wait(); return "passed" } catch is BrokenBarrierError { return "broken" }
            }
            try await sleep(0)
            try await barrier.reset()
            let first = [try await waiter.value, "\(barrier)"]
            let again = (0..<2).map { _ in loop.createTask { try await barrier.wait() } }
            return (first, try await gather(again).sorted())
        }
        #expect(first == ["broken", "<Barrier [filling, waiters:0/2]>"])
        #expect(second == [0, 1])
    }
}

@Suite(.suiteLimit) struct SmallAPITests {
    @Test func gatherOfDifferentTypesGivesATuple() throws {
        let (number, text, flag, sameTyped) = try runLoop { loop -> (Int, String, Bool, [Int]) in
            let number = loop.createTask { () -> Int in try await sleep(0.002); return 4 }
            let text = loop.createTask { () -> String in "four" }
            let flag = loop.createTask { () -> Bool in true }
            let (n, t, f) = try await gather(number, text, flag)
            let same = try await gather(loop.createTask { 1 }, loop.createTask { 2 })
            return (n, t, f, same)
        }
        #expect(number == 4 && text == "four" && flag)
        #expect(sameTyped == [1, 2])
    }

    @Test func gatherOfDifferentTypesThrowsTheFirstError() throws {
        struct Boom: Error {}
        let caught = try runLoop { loop -> Bool in
            do {
                _ = try await gather(loop.createTask { () -> Int in throw Boom() }, loop.createTask { "ok" })
                return false
            } catch is Boom {
                return true
            }
        }
        #expect(caught)
    }

    @Test func sleepTakesADuration() throws {
        let elapsed = try runLoop { loop -> Double in
            let start = loop.time()
            try await sleep(for: .milliseconds(20))
            return loop.time() - start
        }
        #expect(elapsed >= 0.02)
    }

    @Test func exceptionGroupSplitsAsExceptStarDoes() {
        struct Boom: Error {}
        let inner = ExceptionGroup("inner", [TimeoutError(), Boom()])
        let group = ExceptionGroup("outer", [Boom(), inner, TimeoutError()])
        let (timeouts, rest) = group.split(TimeoutError.self)
        #expect(timeouts.map { "\($0)" } == "outer (2 sub-exceptions)")
        #expect(timeouts?.errors.first is ExceptionGroup)
        #expect((timeouts?.errors.first as? ExceptionGroup)?.errors.count == 1)
        #expect(rest.map { "\($0)" } == "outer (2 sub-exceptions)")
        #expect(group.subgroup(CancelledError.self) == nil)
        #expect(group.contains { $0 is Boom })
        #expect(group.split { $0 is ExceptionGroup }.match?.message == "outer")
    }
}

@LoopActor
private func fetch(_ id: Int) async throws -> String {
    try await sleep(for: .milliseconds(10 * id))
    return "item \(id)"
}

@Suite struct GuideExampleTests {
    /// docs/library.md's first program, as written there.
    @Test func theGuidesFirstProgramRuns() throws {
        let items = try run {
            let tasks = (1...3).map { id in createTask { try await fetch(id) } }
            return try await gather(tasks)
        }
        #expect(items == ["item 1", "item 2", "item 3"])
    }
}
