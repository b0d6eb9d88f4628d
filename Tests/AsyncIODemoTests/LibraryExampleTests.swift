import Testing
import TestSupport

/// docs/library.md's three programs (Examples/), run as built: a Swift
/// developer's first contact with the library must work as shown.
@Suite(.suiteLimit) struct LibraryExampleTests {
    static func run(_ name: String) throws -> [Substring] {
        let run = try ChildProcess.run(builtExecutable(named: name), [])
        #expect(run.status == 0, "\(name): \(run.stderrText)")
        #expect(run.stderrText.isEmpty)
        return run.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
    }

    @Test func fanOutCollectsTheSameDownloadsSixWays() throws {
        #expect(try Self.run("FanOut") == [
            #"gather: ["alpha: 1200 ms", "beta: 200 ms", "gamma: 700 ms"]"#,
            "wait: first done beta: 200 ms, 2 pending",
            #"asCompleted: ["beta: 200 ms", "gamma: 700 ms", "alpha: 1200 ms"]"#,
            "task group: 1 failed: DownloadFailed(beta)",
            #"timeout: after 0.45 s, cancelled ["alpha", "gamma"]"#,
            "async let under timeout: TimeoutError at once",
            "",
        ])
    }

    @Test func thePipelineStopsEachWayWithNothingLost() throws {
        let lines = try Self.run("QueuePipeline")
        #expect(Array(lines.prefix(8)) == [
            "join, then cancel the workers:",
            "  worker-1: cancelled",
            "  worker-2: cancelled",
            "  worker-3: cancelled",
            "  20 squares, sum 2870; 3 workers ended cancelled",
            "shut the queue down:",
            "  20 squares, sum 2870; 3 workers returned",
            "a timeout around an endless pipeline:",
        ])
        // A task group cancels its tasks together; which one prints first
        // depends on what each was doing.
        #expect(lines[8..<12].sorted() == [
            "  producer: cancelled",
            "  worker-1: cancelled",
            "  worker-2: cancelled",
            "  worker-3: cancelled",
        ])
        #expect(Array(lines.dropFirst(12)) == ["  TimeoutError after 0.2 s; squares were made", ""])
    }

    @Test func lineChatServesThreeClientsAtOnce() throws {
        #expect(try Self.run("LineChat") == [
            "serving on 127.0.0.1, an ephemeral port",
            "client 1:",
            "  upper hello -> HELLO",
            "  count -> 2",
            "  quit -> bye",
            "client 2:",
            "  count -> 1",
            "  count -> 2",
            "  upper é and ß -> É AND SS",
            "  quit -> bye",
            "client 3:",
            "  shout -> unknown command: shout",
            "  quit -> bye",
            "server closed",
            "",
        ])
    }
}
