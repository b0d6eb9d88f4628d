import Testing
import Synchronization
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct LoopTests {
    @Test func callSoonRunsInFIFOOrder() throws {
        let order = try runLoop { loop -> [Int] in
            var order: [Int] = []
            for i in 0..<1000 { loop.callSoon { order.append(i) } }
            try await sleep(0)
            return order
        }
        #expect(order == Array(0..<1000))
    }

    @Test func callbacksScheduledByCallbacksRunOnTheNextIteration() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            loop.callSoon {
                log("a")
                loop.callSoon { log("c") }
            }
            loop.callSoon { log("b") }
            try await sleep(0)
            log("after one iteration")
            try await sleep(0)
            return log.entries
        }
        #expect(log == ["a", "b", "after one iteration", "c"])
    }

    @Test func timersFireByDeadlineThenSchedulingOrder() throws {
        let order = try runLoop { loop -> [String] in
            let log = Log()
            let now = loop.time()
            loop.callAt(now + 0.03) { log("late") }
            loop.callAt(now + 0.01) { log("first of equal") }
            loop.callAt(now + 0.01) { log("second of equal") }
            loop.callAt(now + 0.01) { log("third of equal") }
            loop.callLater(0.02) { log("middle") }
            loop.callSoon { log("soon") }
            try await sleep(0.05)
            return log.entries
        }
        #expect(order == ["soon", "first of equal", "second of equal", "third of equal", "middle", "late"])
    }

    @Test func hundredThousandTimersFireInDeadlineOrder() throws {
        let (fired, outOfOrder) = try runLoop { loop -> (Int, Int) in
            var generator = SplitMix(seed: 7)
            var fired = 0, outOfOrder = 0
            var lastDeadline = -Double.infinity
            let done = Future<Void>(loop: loop)
            let count = 100_000
            for _ in 0..<count {
                let delay = Double(generator.next() % 50_000) / 1_000_000  // 0–50 ms
                let when = loop.time() + delay
                loop.callAt(when) {
                    if when < lastDeadline { outOfOrder += 1 }
                    lastDeadline = when
                    fired += 1
                    if fired == count { try done.setResult(()) }
                }
            }
            try await done.value
            return (fired, outOfOrder)
        }
        #expect(fired == 100_000)
        #expect(outOfOrder == 0)
    }

    @Test func readyCallbacksRunBeforeTimersThatBecomeDueLater() throws {
        // A callback that keeps rescheduling itself must not starve a due
        // timer, and the timer runs after the callbacks ready before it:
        // spin 1 schedules spin 2, then waits until its timer is due, so
        // spin 2 is ready before the timer is and must run first.
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let spinner = Spinner(loop: loop, log: log)
            loop.callSoon { spinner.spin() }
            try await spinner.done.value
            return log.entries
        }
        #expect(log == ["spin 1", "spin 2", "timer", "spin 3"])
    }

    @Test func cancelledHandlesNeverRun() throws {
        let ran = try runLoop { loop -> [String] in
            let log = Log()
            let soon = loop.callSoon { log("soon") }
            let later = loop.callLater(0.001) { log("later") }
            let keep = loop.callLater(0.002) { log("kept") }
            soon.cancel()
            later.cancel()
            #expect(soon.isCancelled && later.isCancelled && !keep.isCancelled)
            try await sleep(0.02)
            return log.entries
        }
        #expect(ran == ["kept"])
    }

    @Test func manyCancelledTimersAreCompactedAway() throws {
        // The cancelled timers are behind a live one at the head of the
        // queue, so only compaction can drop them.
        let (before, after, fired) = try runLoop { loop -> (Int, Int, Int) in
            var fired = 0
            let live = (0..<10).map { i in loop.callLater(1000 + Double(i)) { fired += 1 } }
            let doomed = (0..<990).map { i in loop.callLater(2000 + Double(i)) { fired += 1 } }
            for handle in doomed { handle.cancel() }
            let before = loop.timers.count
            try await sleep(0)
            let after = loop.timers.count
            for handle in live { handle.cancel() }
            return (before, after, fired)
        }
        #expect(before == 1000)
        #expect(after == 10)  // just the live timers; sleep(0) queues none
        #expect(fired == 0)
    }

    @Test func throwingCallbackReachesExceptionHandlerAndLoopSurvives() throws {
        let (messages, after) = try runLoop { loop -> ([String], Bool) in
            var messages: [String] = []
            loop.setExceptionHandler { _, context in
                messages.append("\(context.message): \(context.error.map { "\($0)" } ?? "-")")
            }
            loop.callSoon(label: "exploding") { throw Boom() }
            var after = false
            loop.callSoon { after = true }
            try await sleep(0.001)
            return (messages, after)
        }
        #expect(messages == ["Exception in callback exploding: Boom(tag: \"boom\")"])
        #expect(after)
    }

    @Test func runForeverStopsAfterTheCurrentIteration() throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        let log = Mutex<[String]>([])
        loop.withIsolation {
            loop.callSoon { log.withLock { $0.append("a") } }
            loop.callSoon {
                loop.stop()
                loop.callSoon { log.withLock { $0.append("next run") } }
            }
            loop.callSoon { log.withLock { $0.append("b") } }
        }
        try loop.runForever()
        #expect(log.withLock { $0 } == ["a", "b"])
        loop.withIsolation { loop.callSoon { loop.stop() } }
        try loop.runForever()
        #expect(log.withLock { $0 } == ["a", "b", "next run"])
    }

    @Test func runningTwiceOrAfterCloseThrowsClearErrors() throws {
        let loop = EventLoop()
        let nested = try loop.runUntilComplete { () -> String in
            do {
                _ = try loop.runUntilComplete { 1 }
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(nested == "This event loop is already running")
        let closeWhileRunning = try loop.runUntilComplete { () -> String in
            do { try loop.close(); return "no error" } catch { return "\(error)" }
        }
        #expect(closeWhileRunning == "Cannot close a running event loop")
        try loop.close()
        try loop.close()  // closing twice is allowed
        #expect(loop.isClosed)
        #expect(throws: EventLoopError.closed) { try loop.runUntilComplete { 1 } }
        #expect(throws: EventLoopError.closed) { try loop.runForever() }
    }

    @Test func closingReportsEachTaskStillPendingToTheExceptionHandler() throws {
        let loop = EventLoop()
        let reports = Locked<[String]>([])
        try loop.runUntilComplete { () -> Void in
            loop.setExceptionHandler { _, context in
                let task = context.task.map { "\($0.name): \($0.repr.prefix(13))" } ?? "-"
                reports.withLock { $0.append("\(context.message) \(task)") }
            }
            let finished = createTask(name: "finished") { 1 }
            _ = createTask(name: "sleeping") { try await sleep(30) }
            let never = Future<Int>(loop: loop)
            _ = createTask(name: "waiting") { try await never.value }
            _ = try await finished.value
        }
        #expect(reports.withLock { $0 }.isEmpty)
        try loop.close()
        #expect(reports.withLock { $0 }.sorted() == [
            "Task was destroyed but it is pending! sleeping: <Task pending",
            "Task was destroyed but it is pending! waiting: <Task pending",
        ])
        try loop.close()  // a second close reports nothing again
        #expect(reports.withLock { $0 }.count == 2)
    }

    @Test func anotherLoopCannotRunInsideARunningOne() throws {
        let message = try runLoop { _ -> String in
            let other = EventLoop()
            defer { try? other.close() }
            do { _ = try other.runUntilComplete { 1 }; return "no error" } catch { return "\(error)" }
        }
        #expect(message == "Cannot run the event loop while another loop is running on this thread")
    }

    @Test func stoppingBeforeTheFutureCompletesIsAnError() throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        let future = loop.withIsolation { () -> Future<Int> in
            loop.callSoon { loop.stop() }
            return Future<Int>(loop: loop)
        }
        #expect(throws: EventLoopError.stoppedBeforeFutureCompleted) { try loop.runUntilComplete(future) }
    }

    @Test func runCancelsLeftoverTasksAndClosesTheLoop() throws {
        let cancelled = Mutex(false)
        let result = try run { () -> String in
            _ = createTask {
                do { try await sleep(60) } catch is CancelledError { cancelled.withLock { $0 = true } }
            }
            try await sleep(0)
            return "main done"
        }
        #expect(result == "main done")
        #expect(cancelled.withLock { $0 })
    }

    @Test func timeIsMonotonic() throws {
        let loop = EventLoop()
        defer { try? loop.close() }
        let a = loop.time(), b = loop.time()
        #expect(b >= a)
    }
}

/// A callback that reschedules itself with callSoon until the log shows
/// its timer fired. The first spin schedules the next, then sets a timer
/// and waits on the clock until it is due.
@LoopActor
final class Spinner {
    let loop: EventLoop
    let log: Log
    let done: Future<Void>
    var spins = 0
    init(loop: EventLoop, log: Log) {
        self.loop = loop
        self.log = log
        done = Future(loop: loop)
    }

    func spin() {
        spins += 1
        log("spin \(spins)")
        // A starved timer shows as too many spins, not as a hang.
        guard !log.entries.contains("timer"), spins < 100 else {
            try? done.setResult(())
            return
        }
        loop.callSoon { self.spin() }
        if spins == 1 {
            let timer = loop.callLater(0.001) { self.log("timer") }
            while loop.time() < timer.when {}
        }
    }
}

/// A small deterministic random generator for seeded tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Counts what the scheduler reports to an instrument.
@LoopActor
final class CountingInstrument: Instrument {
    var callbacks: [String] = []
    var taskSteps = 0
    var sleepTimers = 0
    var ioWaits = 0
    func beforeIOWait(timeout: Double?) { ioWaits += 1 }
    func beforeRun(_ item: ReadyItemKind) {
        switch item {
        case .callback(let handle): callbacks.append(handle.label)
        case .sleepTimer: sleepTimers += 1
        case .doneCallback(let future): callbacks.append(future.callbackLabel)
        case .taskStep: taskSteps += 1
        }
    }
}

@Suite(.suiteLimit) struct InstrumentTests {
    @Test func instrumentsSeeCallbacksTaskStepsAndIOWaits() throws {
        let (callbacks, steps, sleepTimers, waits, afterRemoval) = try runLoop { loop -> ([String], Int, Int, Int, Int) in
            let instrument = CountingInstrument()
            loop.addInstrument(instrument)
            loop.callSoon(label: "first") {}
            loop.callLater(0.001, label: "timer") {}
            try await sleep(0.01)
            loop.removeInstrument(instrument)
            let seen = instrument.callbacks.count
            loop.callSoon(label: "unseen") {}
            try await sleep(0)
            return (instrument.callbacks, instrument.taskSteps, instrument.sleepTimers, instrument.ioWaits,
                    instrument.callbacks.count - seen)
        }
        #expect(callbacks.starts(with: ["first"]))
        #expect(callbacks.contains("timer"))
        #expect(sleepTimers == 1)  // the sleep's own timer, which wakes the task
        #expect(steps >= 1)  // the main task resumed after its sleep
        #expect(waits >= 1)
        #expect(afterRemoval == 0)
    }
}
