import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct SchedulingCommand: TopicCommand {
    static let topic = Topic(
        name: "scheduling",
        section: "Scheduling Calls to Regular Functions",
        abstract: "Schedule plain callbacks: soon, after a delay, at a time; stop the loop.",
        normalize: [.clockReadings],
        examples: [
            Example(name: "call-soon", summary: "Callbacks run on the next iteration, in the order scheduled.",
                    mirrors: "asyncio_call_soon.py: loop.call_soon", run: callSoonExample),
            Example(name: "call-later", summary: "Callbacks run after a delay; call_soon ones come first.",
                    mirrors: "asyncio_call_later.py: loop.call_later", run: callLaterExample),
            Example(name: "call-at", summary: "Callbacks run at a point of the loop's monotonic clock.",
                    mirrors: "asyncio_call_at.py: loop.call_at, loop.time", run: callAtExample),
            Example(name: "stop", summary: "run_forever returns once a task calls stop.",
                    mirrors: "asyncio_stop.py: loop.run_forever, loop.stop", logging: .named, run: stopExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

/// Runs `main` on a new loop the way the chapter's scripts do, printing
/// the entering and closing lines around it.
private func runLikeTheDocs(_ main: @escaping @LoopActor (EventLoop) async throws -> Void) throws {
    let loop = EventLoop()
    defer {
        print("closing event loop")
        try? loop.close()
    }
    print("entering event loop")
    try loop.runUntilComplete { try await main(loop) }
}

// MARK: call-soon

@LoopActor
private func callback(_ argument: Int, keyword: String = "default") {
    print("callback invoked with \(argument) and \(keyword)")
}

private func callSoonExample() throws {
    try runLikeTheDocs { loop in
        print("registering callbacks")
        loop.callSoon(label: "callback(1)") { callback(1) }
        loop.callSoon(label: "callback(2, kwarg='not default')") { callback(2, keyword: "not default") }
        try await sleep(0.1)
    }
}

// MARK: call-later

@LoopActor
private func numberedCallback(_ n: Int) {
    print("callback \(n) invoked")
}

private func callLaterExample() throws {
    try runLikeTheDocs { loop in
        print("registering callbacks")
        loop.callLater(0.2, label: "callback(1)") { numberedCallback(1) }
        loop.callLater(0.1, label: "callback(2)") { numberedCallback(2) }
        loop.callSoon(label: "callback(3)") { numberedCallback(3) }
        try await sleep(0.4)
    }
}

// MARK: call-at

@LoopActor
private func timedCallback(_ n: Int, _ loop: EventLoop) {
    print("callback \(n) invoked at \(loop.time())")
}

private func callAtExample() throws {
    try runLikeTheDocs { loop in
        let now = loop.time()
        print("clock time: \(wallClockSeconds())")
        print("loop  time: \(now)")
        print("registering callbacks")
        loop.callAt(now + 0.2, label: "callback(1, loop)") { timedCallback(1, loop) }
        loop.callAt(now + 0.1, label: "callback(2, loop)") { timedCallback(2, loop) }
        loop.callSoon(label: "callback(3, loop)") { timedCallback(3, loop) }
        try await sleep(1)
    }
}

/// Seconds since the Unix epoch, like Python's `time.time()`.
private func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

// MARK: stop

@LoopActor
private func stopper(_ loop: EventLoop) async {
    print("main: stopper invoked")
    loop.stop()
}

private func stopExample() throws {
    let loop = EventLoop()
    loop.withIsolation { _ = loop.createTask(coroutine: "stopper") { await stopper(loop) } }
    defer {
        print("main: closing event loop")
        try? loop.close()
    }
    print("main: entering event loop")
    try loop.runForever()
}
