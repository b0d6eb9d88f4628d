import ArgumentParser
import AsyncIO

struct FuturesCommand: TopicCommand {
    static let topic = Topic(
        name: "futures",
        section: "Producing Results Asynchronously",
        abstract: "Futures: results that arrive later, awaited or delivered to callbacks.",
        examples: [
            Example(name: "event-loop", summary: "runUntilComplete waits for a future set by a callback.",
                    mirrors: "asyncio_future_event_loop.py: Future, set_result, run_until_complete",
                    run: futureEventLoop),
            Example(name: "await", summary: "A coroutine awaits a future set by a callback.",
                    mirrors: "asyncio_future_await.py: await future", run: futureAwait),
            Example(name: "callback", summary: "Done callbacks run in the order they were added.",
                    mirrors: "asyncio_future_callback.py: Future.add_done_callback", run: futureCallback),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

@LoopActor
private func markDone(_ future: Future<String>, _ result: String) throws {
    print("setting future result to \(pythonRepr(result))")
    try future.setResult(result)
}

// MARK: event-loop

private func futureEventLoop() throws {
    let loop = EventLoop()
    let allDone = Future<String>(loop: loop)
    do {
        defer {
            print("closing event loop")
            try? loop.close()
        }
        print("scheduling mark_done")
        loop.withIsolation { _ = loop.callSoon(label: "mark_done") { try markDone(allDone, "the result") } }
        print("entering event loop")
        let result = try loop.runUntilComplete(allDone)
        print("returned result: \(pythonRepr(result))")
    }
    let result = try loop.withIsolation { try allDone.result() }
    print("future result: \(pythonRepr(result))")
}

// MARK: await

private func futureAwait() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    try loop.runUntilComplete {
        let allDone = Future<String>(loop: loop)
        print("scheduling mark_done")
        loop.callSoon(label: "mark_done") { try markDone(allDone, "the result") }
        let result = try await allDone.value
        print("returned result: \(pythonRepr(result))")
    }
}

// MARK: callback

@LoopActor
private func callback(_ future: Future<String>, n: Int) {
    print("\(n): future done: \((try? future.result()) ?? "")")
}

@LoopActor
private func registerCallbacks(_ allDone: Future<String>) async {
    print("registering callbacks on future")
    allDone.addDoneCallback { callback($0, n: 1) }
    allDone.addDoneCallback { callback($0, n: 2) }
}

private func futureCallback() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    let allDone = Future<String>(loop: loop)
    try loop.runUntilComplete {
        await registerCallbacks(allDone)
        print("setting result of future")
        try allDone.setResult("the result")
    }
}
