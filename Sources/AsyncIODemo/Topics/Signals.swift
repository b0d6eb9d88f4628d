import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct SignalsCommand: TopicCommand {
    static let topic = Topic(
        name: "signals",
        section: "Receiving Unix Signals",
        abstract: "Unix signals handled by loop callbacks, in turn with the loop's other work.",
        normalize: [.processIDs],
        examples: [
            Example(name: "send-signals", summary: "A coroutine signals its own process; each handler runs when it yields.",
                    mirrors: "asyncio_signal.py: loop.add_signal_handler, loop.remove_signal_handler, os.kill",
                    run: sendSignalsExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

// MARK: send-signals

@LoopActor
private func signalHandler(_ name: String) {
    print("signal_handler(\(pythonRepr(name)))")
}

@LoopActor
private func sendSignals() async throws {
    let pid = getpid()
    print("starting send_signals for \(pid)")
    for (signal, name) in [(SIGHUP, "SIGHUP"), (SIGHUP, "SIGHUP"), (SIGUSR1, "SIGUSR1"), (SIGINT, "SIGINT")] {
        print("sending \(name)")
        kill(pid, signal)
        // The handler is a loop callback: it runs only when this coroutine
        // gives the loop control, not in the middle of it.
        print("yielding control")
        try await sleep(0.01)
    }
}

private func sendSignalsExample() throws {
    let handled = [(SIGHUP, "SIGHUP"), (SIGUSR1, "SIGUSR1"), (SIGINT, "SIGINT")]
    let loop = EventLoop()
    defer { try? loop.close() }
    try loop.withIsolation {
        for (signal, name) in handled { try loop.addSignalHandler(signal) { signalHandler(name) } }
    }
    // close() would restore them as well; removing them is the API's other half.
    defer { loop.withIsolation { for (signal, _) in handled { loop.removeSignalHandler(signal) } } }
    try loop.runUntilComplete { try await sendSignals() }
}
