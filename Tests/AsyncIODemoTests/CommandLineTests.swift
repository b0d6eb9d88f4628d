import Testing

/// The command line's own behaviour: listing, help, and one-line errors with
/// exit status 64 for names it does not know.
@Suite struct CommandLineTests {
    @Test func unknownTopicSuggestsTheNearestAndExits64() throws {
        let run = try Demo.run(["corutines"])
        #expect(run.status == 64)
        #expect(run.stdout == "")
        #expect(run.stderr == "asyncio-demo: unknown topic 'corutines'; did you mean 'coroutines'? (see `asyncio-demo list`)\n")
    }

    @Test func unknownExampleSuggestsTheNearestAndExits64() throws {
        let run = try Demo.run(["tasks", "cancle"])
        #expect(run.status == 64)
        #expect(run.stderr == "asyncio-demo: unknown example 'cancle' in topic 'tasks'; did you mean 'cancel'? (see `asyncio-demo tasks --help`)\n")
    }

    @Test(arguments: [["nosuch"], ["xyz"], ["tasks", "nosuch"], ["help", "nosuch"]])
    func aNameCloseToNothingGetsNoHint(_ arguments: [String]) throws {
        let run = try Demo.run(arguments)
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("asyncio-demo: unknown "))
        #expect(!run.stderr.contains("did you mean"))
    }

    @Test(arguments: [(["locks", "sem"], "semaphore"), (["tsks"], "tasks"), (["help", "lcks"], "locks")])
    func aPrefixOrACloseNameIsSuggested(_ arguments: [String], _ suggestion: String) throws {
        let run = try Demo.run(arguments)
        #expect(run.status == 64)
        #expect(run.stderr.contains("did you mean '\(suggestion)'?"))
    }

    /// Listings and help fit an 80-column terminal, and a summary that
    /// wraps stays in its column.
    @Test func listAndTopicHelpWrapWithinEightyColumns() throws {
        let pages = try [Demo.run(["list"])] + Demo.run(["list", "--json"]).stdout.split(separator: "\n")
            .compactMap { $0.firstMatch(of: /"name": "([a-z-]+)", "section"/).map { String($0.1) } }
            .map { try Demo.run([$0, "--help"]) }
        #expect(pages.count == 15)
        for page in pages {
            #expect(page.status == 0)
            // The usage line and options below it are the parser's own.
            for line in page.stdout.split(separator: "\n").prefix(while: { !$0.hasPrefix("USAGE:") }) {
                #expect(line.count < 80, "\(line)")
            }
        }
        let locks = try Demo.run(["locks", "--help"]).stdout
        #expect(locks.contains("""
              lock                  A lock taken before the tasks start; a callback
                                    releases it.
            """))
    }

    /// The shell completions offer every topic.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsNameEveryTopic(_ shell: String) throws {
        let run = try Demo.run(["--generate-completion-script", shell])
        #expect(run.status == 0)
        for topic in ["concepts", "coroutines", "locks", "echo-server", "debug", "dns"] {
            #expect(run.stdout.contains(topic), "\(shell): \(topic)")
        }
    }

    @Test func extraArgumentsAreAUsageError() throws {
        let run = try Demo.run(["tasks", "cancel", "surplus"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("surplus"))
    }

    @Test func listNamesEveryTopicWithItsSection() throws {
        let run = try Demo.run(["list"])
        #expect(run.status == 0)
        let topicLines = run.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        #expect(topicLines == [
            "concepts — Asynchronous Concurrency Concepts",
            "coroutines — Cooperative Multitasking with Coroutines",
            "scheduling — Scheduling Calls to Regular Functions",
            "futures — Producing Results Asynchronously",
            "tasks — Executing Tasks Concurrently",
            "control — Control Structures for Tasks",
            "locks — Synchronization Primitives",
            "echo-server — Asynchronous I/O with Protocol Class Abstractions; Asynchronous",
            "ssl-echo — Using SSL",
            "subprocess — Working with Subprocesses",
            "signals — Receiving Unix Signals",
            "executors — Combining Coroutines with Threads and Processes",
            "dns — Interacting with Domain Name Services",
            "debug — Debugging with asyncio",
        ])
        #expect(run.stdout.contains("  cancel-while-waiting  Cancelling a sleeping task interrupts its await.\n"))
    }

    @Test func topicHelpNamesTheDocumentationSection() throws {
        let run = try Demo.run(["control", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Mirrors \"Control Structures for Tasks\" in the asyncio chapter"))
        #expect(run.stdout.contains("USAGE: asyncio-demo control [<example>]"))
    }
}
