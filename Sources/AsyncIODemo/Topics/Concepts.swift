import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct ConceptsCommand: TopicCommand {
    static let topic = Topic(
        name: "concepts",
        section: "Asynchronous Concurrency Concepts",
        abstract: "The ideas behind the chapters, each in a tiny example with the loop's trace beside it.",
        normalize: [.loopTimings],
        examples: [
            Example(name: "event-loop", summary: "The loop runs ready callbacks in turn and sleeps until a timer is due.",
                    mirrors: "concepts: the event loop (call_soon, call_later, run_forever, stop)", run: eventLoopConcept),
            Example(name: "coroutines", summary: "A coroutine runs until it awaits what is not done yet.",
                    mirrors: "concepts: coroutines (await, asyncio.sleep)", run: coroutinesConcept),
            Example(name: "futures", summary: "A future's result, set later by a callback, wakes who awaits it.",
                    mirrors: "concepts: futures (Future, set_result, await)", run: futuresConcept),
            Example(name: "tasks", summary: "Tasks take turns at each await: concurrency on one thread.",
                    mirrors: "concepts: tasks (create_task, gather)", run: tasksConcept),
            Example(name: "transports", summary: "A protocol hears of bytes when the loop sees its socket ready.",
                    mirrors: "concepts: protocols and transports (connect_accepted_socket, Protocol)",
                    run: transportsConcept),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions

    func validate() throws {
        if learner.trace { throw ValidationError("concepts always shows the loop's trace; --trace is not needed") }
    }
}

/// Explains a concept in a few lines, then runs its example on a new loop
/// with the loop's trace interleaved, and closes the loop.
private func explainThenRun(_ lines: [String], _ main: @escaping @LoopActor (EventLoop) async throws -> Void) throws {
    for line in lines { print(TextLayout.hanging("", line, indent: 0)) }
    print()
    let loop = EventLoop()
    defer { try? loop.close() }
    loop.withIsolation { loop.addInstrument(LoopTracer(loop: loop) { print($0) }) }
    try loop.runUntilComplete { try await main(loop) }
}

// MARK: event-loop

private func eventLoopConcept() throws {
    try explainThenRun([
        "An event loop runs callbacks one at a time, in the order they became ready. When nothing is ready, "
            + "it waits (the `select` lines) until a timer is due or a socket is ready.",
    ]) { loop in
        let done = Future<Void>(loop: loop)
        loop.callLater(0.05, label: "second") {
            print("second: 50 ms later")
            try done.setResult(())
        }
        loop.callSoon(label: "first") { print("first: on the next iteration") }
        try await done.value
    }
}

// MARK: coroutines

@LoopActor
private func fetch() async throws -> Int {
    print("fetch: starting, then waiting 10 ms")
    try await sleep(0.01)
    print("fetch: done waiting")
    return 42
}

private func coroutinesConcept() throws {
    try explainThenRun([
        "A coroutine is a function that can stop at an await and carry on later where it stopped. "
            + "Awaiting another coroutine runs it in the same step; only awaiting something not yet done "
            + "(here a sleep) ends the step and lets the loop run other work.",
    ]) { _ in
        print("main: calling fetch")
        let value = try await fetch()
        print("main: fetch returned \(value)")
    }
}

// MARK: futures

private func futuresConcept() throws {
    try explainThenRun([
        "A future stands for a result that is not there yet. A task that awaits it is suspended; "
            + "whoever sets the result (here a callback) wakes it.",
    ]) { loop in
        let answer = Future<String>(loop: loop)
        loop.callSoon(label: "set_answer") {
            print("callback: setting the result")
            try answer.setResult("ready")
        }
        print("main: awaiting the future")
        print("main: the future gave \(pythonRepr(try await answer.value))")
    }
}

// MARK: tasks

@LoopActor
private func count(_ name: String, to limit: Int) async throws -> String {
    for step in 1...limit {
        print("\(name): step \(step)")
        try await sleep(0)
    }
    return name
}

private func tasksConcept() throws {
    try explainThenRun([
        "A task runs a coroutine on the loop. Two tasks run concurrently, not in parallel: each await "
            + "(here a zero-second sleep) hands the loop to the other, on one thread.",
    ]) { loop in
        let first = loop.createTask(name: "first", coroutine: "count") { try await count("first", to: 2) }
        let second = loop.createTask(name: "second", coroutine: "count") { try await count("second", to: 2) }
        let names = try await gather(first, second)
        print("main: both done: \(names.map(pythonRepr).joined(separator: ", "))")
    }
}

// MARK: transports

/// Echoes what it receives, then closes.
@LoopActor
private final class Echo: StreamingProtocol {
    private var transport: (any Transport)?
    func connectionMade(_ transport: any Transport) { self.transport = transport }
    func dataReceived(_ data: [UInt8]) {
        print("server protocol: received \(pythonRepr(bytes: data)), echoing it")
        transport?.write(data)
        transport?.close()
    }
}

/// Sends one message and records the answer.
@LoopActor
private final class Ask: StreamingProtocol {
    let answered: Future<Void>
    init(answered: Future<Void>) { self.answered = answered }
    func connectionMade(_ transport: any Transport) {
        print("client protocol: connected, sending b'hello'")
        transport.write(Array("hello".utf8))
    }
    func dataReceived(_ data: [UInt8]) { print("client protocol: received \(pythonRepr(bytes: data))") }
    func connectionLost(_ error: (any Error)?) {
        print("client protocol: connection closed")
        try? answered.setResult(())
    }
}

private func transportsConcept() throws {
    try explainThenRun([
        "A transport owns a socket; a protocol is told what happens on it (connection made, data received, "
            + "connection lost). The loop calls them when epoll reports the socket ready (the `fd` lines). "
            + "Here the two ends of a connected socket pair talk to each other.",
    ]) { loop in
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw OSError(errno: errno, operation: "socketpair")
        }
        let answered = Future<Void>(loop: loop)
        _ = try await loop.connectAcceptedSocket({ Echo() }, sock: ends[0])
        _ = try await loop.connectAcceptedSocket({ Ask(answered: answered) }, sock: ends[1])
        try await answered.value
    }
}
