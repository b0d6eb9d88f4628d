import ArgumentParser
import AsyncIO
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct DebugCommand: TopicCommand {
    static let topic = Topic(
        name: "debug",
        section: "Debugging with asyncio",
        abstract: "Debug mode: the loop logs what it does and warns of steps that block it.",
        normalize: [.slowCallbacks],
        examples: [
            Example(name: "plain", summary: "Without debug mode the blocking step goes unnoticed.",
                    mirrors: "asyncio_debug.py: logging at DEBUG level, run_until_complete",
                    logging: .levelled, sections: ["debug"], run: { try debugExample(verbose: false) }),
            Example(name: "verbose", summary: "With -v: debug mode logs the step that blocked the loop for 0.1 s.",
                    mirrors: "asyncio_debug.py -v: loop.set_debug, loop.slow_callback_duration",
                    logging: .levelled, sections: ["debug"], run: { try debugExample(verbose: true) }),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
    @Flag(name: .short, help: "Enable debugging, as the documentation's script does: the example 'verbose'.")
    var verbose = false

    func validate() throws {
        if verbose, let example, example != "verbose" {
            throw ValidationError("-v runs the example 'verbose'; not with '\(example)'")
        }
    }

    func run() throws {
        try runTopic(Self.topic, example: verbose ? "verbose" : example, learner)
    }
}

// MARK: debug

/// The script's root logger: `%(levelname)7s: %(message)s`.
private let log = Logger(label: "root")

@LoopActor
private func inner() async {
    log.info("inner starting")
    // A blocking sleep stands for work done inside the coroutine: the loop
    // can run nothing else meanwhile.
    usleep(100_000)
    log.info("inner completed")
}

@LoopActor
private func outer(_ loop: EventLoop) async throws {
    log.info("outer starting")
    try await loop.createTask(coroutine: "inner") { await inner() }.value
    log.info("outer completed")
}

private func debugExample(verbose: Bool) throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    if verbose {
        log.info("enabling debugging")
        loop.debug = true
        // A very small threshold, for illustration; the default is 0.1 s.
        loop.slowCallbackDuration = 0.001
    }
    log.info("entering event loop")
    try loop.runUntilComplete { try await outer(loop) }
}
