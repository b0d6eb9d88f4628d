import Foundation
import Testing
import TestSupport

/// `--trace` and `--trace-file`: the loop's events beside an example's output,
/// and the same events as a timeline. The text format is part of the
/// contract: a few traced examples have goldens.
@Suite(.suiteLimit) struct TraceTests {
    static let goldenFolder = GoldenTests.goldenFolder.appendingPathComponent("traced")

    /// Examples whose trace is the same on every run but for how long the
    /// loop waits, which `normaliseTraceTimings` replaces.
    static let traced = [["tasks", "create-task"], ["locks", "event"], ["futures", "callback"]]

    @Test(arguments: traced)
    func tracedExampleMatchesGolden(_ example: [String]) throws {
        let run = try Demo.run(example + ["--trace"])
        #expect(run.status == 0)
        #expect(run.stderr == "")
        let actual = normaliseTraceTimings(run.stdout)
        let file = Self.goldenFolder.appendingPathComponent(example.joined(separator: "-") + ".txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenFolder, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(file.lastPathComponent); run again without UPDATE_GOLDEN")
            return
        }
        #expect(actual == (try String(contentsOf: file, encoding: .utf8)))
    }

    /// Without the trace lines, a traced run prints exactly the example's output.
    @Test(arguments: traced)
    func tracingLeavesTheOutputAsItWas(_ example: [String]) throws {
        let traced = try Demo.run(example + ["--trace"]).stdout
        let plain = try Demo.run(example).stdout
        #expect(traced.split(separator: "\n").filter { !$0.hasPrefix("[loop] ") } == plain.split(separator: "\n"))
    }

    /// The timeline holds one step event per `run Task-N` line of the text
    /// trace, in the task's own lane, and one lane per task.
    @Test(arguments: [["tasks", "create-task"], ["locks", "event"], ["control", "gather"]])
    func traceFileHasTheStepsOfTheTextTrace(_ example: [String]) throws {
        let path = NSTemporaryDirectory() + "asyncio-trace-\(getpid())-\(example.joined(separator: "-")).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try Demo.run(example + ["--trace", "--trace-file", path])
        #expect(run.status == 0)
        let textSteps = run.stdout.split(separator: "\n").compactMap { line in
            line.firstMatch(of: /^\[loop\] run (Task-\d+)/).map { String($0.1) }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let events = try #require(json?["traceEvents"] as? [[String: Any]])
        let steps = events.filter { $0["ph"] as? String == "X" && $0["cat"] as? String == "task" }
        let stepTasks = steps.compactMap { ($0["args"] as? [String: String])?["task"] }
        #expect(!textSteps.isEmpty)
        #expect(stepTasks == textSteps)
        // Each task's steps share a lane, named after the task.
        let laneNames = Dictionary(uniqueKeysWithValues: events.filter { $0["name"] as? String == "thread_name" }
            .compactMap { event -> (Int, String)? in
                guard let tid = event["tid"] as? Int, let name = (event["args"] as? [String: String])?["name"] else { return nil }
                return (tid, name)
            })
        for step in steps {
            let lane = try #require(laneNames[step["tid"] as? Int ?? -1])
            #expect(lane.hasPrefix(((step["args"] as? [String: String])?["task"])!))
        }
    }

    @Test func anUnwritableTraceFileIsAOneLineError() throws {
        let run = try Demo.run(["tasks", "create-task", "--trace-file", "/nonexistent/dir/trace.json"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("asyncio-demo: cannot write the trace to /nonexistent/dir/trace.json"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    /// `--source` prints the code of every example, from the binary itself.
    @Test func everyExampleHasItsSource() throws {
        for topic in GoldenTests.catalogue {
            for example in topic.examples {
                let run = try Demo.run([topic.name, example.name, "--source"])
                #expect(run.status == 0, "\(topic.name) \(example.name)")
                #expect(run.stdout.split(separator: "\n").count >= 5, "\(topic.name) \(example.name)")
            }
        }
        let condition = try Demo.run(["locks", "condition", "--source"]).stdout
        #expect(condition.hasPrefix("// Locks.swift\n"))
        #expect(condition.contains("private func conditionExample() throws {"))
        #expect(!condition.contains("private func semaphoreExample"))
    }
}

/// How long the loop waits for I/O and when timers are due differ by a
/// millisecond from run to run.
func normaliseTraceTimings(_ text: String) -> String {
    text.replacing(/select timeout=\d+\.\d+/, with: "select timeout=<t>")
        .replacing(/timer in \d+\.\d+s/, with: "timer in <t>s")
}
