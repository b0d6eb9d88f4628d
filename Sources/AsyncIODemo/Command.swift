import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

@main
struct AsyncIODemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asyncio-demo",
        abstract: "Python's asyncio, re-created in Swift, taught chapter by chapter.",
        discussion: """
            Each topic mirrors a section of the asyncio chapter of "Python Module of the \
            Week"; its output reads side by side with the documentation's examples.
            Run `asyncio-demo list` to see every topic and example.
            """,
        subcommands: [ListCommand.self] + topicCommands.map { $0 as any ParsableCommand.Type }
    )

    /// Checks the topic and example names before argument parsing, so a typo
    /// gets a one-line hint instead of a usage dump.
    static func main() {
        // First of all: when a process pool started this process as its
        // worker, serve the pool and exit (see WorkerFunctions.swift).
        registerWorkerFunctions()
        ProcessPoolExecutor.runWorkerIfRequested()
        DemoLogging.bootstrap()
        // A reader of standard output that goes away (`| head`) must not
        // kill a running server: writes then fail with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        // The arguments are copied only for the check, so nothing is left
        // allocated when it exits (leak checkers would count it).
        if let problem = unknownName(in: Array(CommandLine.arguments.dropFirst())) {
            printError("asyncio-demo: \(problem)")
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exitWithOneLine(error)
        }
    }

    /// Help and version requests print as usual; every other error becomes
    /// one line on standard error and its exit status (64 for usage errors).
    static func exitWithOneLine(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        let text = message(for: error)
        guard code != .success, !text.isEmpty else { exit(withError: error) }
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        printError("asyncio-demo: \(line)")
        Glibc.exit(code.rawValue)
    }

    static func unknownName(in arguments: [String]) -> String? {
        // `help TOPIC` names a topic too.
        let arguments = arguments.first == "help" ? Array(arguments.dropFirst().prefix(1)) : arguments
        guard let name = arguments.first, !name.hasPrefix("-"), name != "help", name != "list" else { return nil }
        guard let topic = topic(named: name) else {
            let hint = nearest(to: name, in: allTopics.flatMap { [$0.name] + $0.aliases } + ["list"]).map { "; did you mean '\($0)'?" } ?? ""
            return "unknown topic '\(name)'\(hint) (see `asyncio-demo list`)"
        }
        if arguments.count > 1, !arguments[1].hasPrefix("-"), topic.example(named: arguments[1]) == nil {
            let hint = nearest(to: arguments[1], in: topic.examples.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
            return "unknown example '\(arguments[1])' in topic '\(topic.name)'\(hint) (see `asyncio-demo \(topic.name) --help`)"
        }
        return nil
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every topic and its examples.")

    @Flag(help: "Print the catalogue as JSON, for scripts.") var json = false

    func run() {
        if json {
            print(catalogueJSON())
            return
        }
        for topic in allTopics {
            print(TextLayout.hanging("\(topic.name) —", topic.section, indent: 4))
            for example in topic.examples { print(TextLayout.exampleRow(example)) }
        }
    }
}

/// Runs one example, or every example of the topic under heading lines;
/// or prints their source, with `--source`.
func runTopic(_ topic: Topic, example name: String?, _ learner: LearnerOptions) throws {
    let examples = name.flatMap(topic.example(named:)).map { [$0] } ?? topic.examples
    if learner.source {
        for (index, example) in examples.enumerated() {
            guard let text = source(of: example) else {
                throw DemoFailure(message: "no source embedded for \(topic.name) \(example.name)")
            }
            if examples.count > 1 { print("\(index > 0 ? "\n" : "")$ asyncio-demo \(topic.name) \(example.name) --source\n") }
            print(text, terminator: "")
        }
        return
    }
    try learner.instrumenting {
        if examples.count == 1, name != nil { return try examples[0]() }
        for (index, example) in examples.enumerated() {
            if index > 0 { print() }
            print("$ asyncio-demo \(topic.name) \(example.name)")
            print()
            try example()
        }
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
