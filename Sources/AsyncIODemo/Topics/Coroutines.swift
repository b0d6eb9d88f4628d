import ArgumentParser
import AsyncIO

struct CoroutinesCommand: TopicCommand {
    static let topic = Topic(
        name: "coroutines",
        section: "Cooperative Multitasking with Coroutines",
        abstract: "Start coroutines on an event loop, return values, chain them.",
        examples: [
            Example(name: "start", summary: "Start a coroutine with runUntilComplete.",
                    mirrors: "asyncio_coroutine.py: loop.run_until_complete(coroutine())", run: startCoroutine),
            Example(name: "return", summary: "A coroutine's return value comes back from runUntilComplete.",
                    mirrors: "asyncio_coroutine_return.py: return values", run: returnValue),
            Example(name: "chain", summary: "One coroutine awaits others and uses their results.",
                    mirrors: "asyncio_coroutine_chain.py: await", run: chainCoroutines),
            Example(name: "generator", summary: "The same chain written with futures and callbacks, as await does it.",
                    mirrors: "asyncio_generator.py: what `await` does (Future, add_done_callback)", run: chainWithoutAwait),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

// MARK: start

@LoopActor
private func coroutine() async {
    print("in coroutine")
}

private func startCoroutine() throws {
    let loop = EventLoop()
    defer {
        print("closing event loop")
        try? loop.close()
    }
    print("starting coroutine")
    // Like calling a coroutine function: nothing runs until the loop does.
    let coro: @LoopActor () async -> Void = { await coroutine() }
    print("entering event loop")
    try loop.runUntilComplete(coro)
}

// MARK: return

@LoopActor
private func coroutineReturningResult() async -> String {
    print("in coroutine")
    return "result"
}

private func returnValue() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    let returnValue = try loop.runUntilComplete { await coroutineReturningResult() }
    print("it returned: \(pythonRepr(returnValue))")
}

// MARK: chain

@LoopActor
private func outer() async -> (String, String) {
    print("in outer")
    print("waiting for result1")
    let result1 = await phase1()
    print("waiting for result2")
    let result2 = await phase2(result1)
    return (result1, result2)
}

@LoopActor
private func phase1() async -> String {
    print("in phase1")
    return "result1"
}

@LoopActor
private func phase2(_ argument: String) async -> String {
    print("in phase2")
    return "result2 derived from \(argument)"
}

private func chainCoroutines() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    let (result1, result2) = try loop.runUntilComplete { await outer() }
    print("return value: (\(pythonRepr(result1)), \(pythonRepr(result2)))")
}

// MARK: generator

/// `outer` without async/await: each "await" becomes a done callback on a
/// future, and the code after it moves into that callback.
@LoopActor
private func outerWithCallbacks(_ loop: EventLoop) -> Future<[String]> {
    let result = Future<[String]>(loop: loop)
    loop.callSoon {
        print("in outer")
        print("waiting for result1")
        phase1Future(loop).addDoneCallback { first in
            let result1 = try! first.result()
            print("waiting for result2")
            phase2Future(loop, result1).addDoneCallback { second in
                try? result.setResult([result1, try! second.result()])
            }
        }
    }
    return result
}

@LoopActor
private func phase1Future(_ loop: EventLoop) -> Future<String> {
    print("in phase1")
    let future = Future<String>(loop: loop)
    try? future.setResult("result1")
    return future
}

@LoopActor
private func phase2Future(_ loop: EventLoop, _ argument: String) -> Future<String> {
    print("in phase2")
    let future = Future<String>(loop: loop)
    try? future.setResult("result2 derived from \(argument)")
    return future
}

private func chainWithoutAwait() throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    let future = loop.withIsolation { outerWithCallbacks(loop) }
    let values = try loop.runUntilComplete(future)
    print("return value: (\(values.map(pythonRepr).joined(separator: ", ")))")
}
