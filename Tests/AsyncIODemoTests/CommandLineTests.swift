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
        #expect(run.stderr == "asyncio-demo: unknown example 'cancle' in topic 'tasks'; did you mean 'cancel'?\n")
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
            "coroutines — Cooperative Multitasking with Coroutines",
            "scheduling — Scheduling Calls to Regular Functions",
            "futures — Producing Results Asynchronously",
            "tasks — Executing Tasks Concurrently",
            "control — Control Structures for Tasks",
            "locks — Synchronization Primitives",
            "echo-server — Asynchronous I/O with Protocol Class Abstractions; Asynchronous I/O Using Coroutines and Streams",
            "ssl-echo — Using SSL",
            "subprocess — Working with Subprocesses",
            "signals — Receiving Unix Signals",
            "executors — Combining Coroutines with Threads and Processes",
            "dns — Interacting with Domain Name Services",
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
