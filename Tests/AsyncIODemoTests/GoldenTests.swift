import Foundation
import Testing
import TestSupport

/// Golden-output tests: every example's output, normalised only by the
/// rules its topic declares in the catalogue (see `Normalizers.swift`), must
/// equal its recorded file in `Golden/<topic>/<example>.txt`; a topic that
/// declares none is compared byte for byte. Set `UPDATE_GOLDEN=1` to
/// re-record; a re-recording run fails so a changed baseline is always noticed.
@Suite(.suiteLimit) struct GoldenTests {
    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Case: CustomTestStringConvertible, Sendable {
        let topic: String
        let example: String
        /// The topic's `"normalize"` rule names, as the catalogue spells them.
        let rules: [String]
        var testDescription: String { "\(topic) \(example)" }
        var file: URL { GoldenTests.goldenFolder.appendingPathComponent(topic).appendingPathComponent("\(example).txt") }
    }

    /// Every topic the demo lists, read from `asyncio-demo list --json`.
    static let catalogue: [CatalogueTopic] = {
        guard let run = try? Demo.run(["list", "--json"]), run.status == 0,
              let catalogue = try? JSONDecoder().decode([CatalogueTopic].self, from: Data(run.stdout.utf8))
        else { return [] }
        return catalogue
    }()

    /// Every example, with its topic's normalisation rules.
    static let cases: [Case] = catalogue.flatMap { topic in
        topic.examples.map { Case(topic: topic.name, example: $0.name, rules: topic.normalize) }
    }

    struct CatalogueTopic: Decodable {
        let name: String
        /// Required: a catalogue without it fails to decode, and so lists no
        /// examples, rather than quietly normalising nothing.
        let normalize: [String]
        let examples: [CatalogueExample]
    }

    struct CatalogueExample: Decodable { let name: String }

    @Test func everyTopicHasExamples() {
        #expect(Set(Self.cases.map(\.topic)) == [
            "coroutines", "scheduling", "futures", "tasks", "control", "locks", "echo-server", "ssl-echo", "subprocess",
            "signals", "executors", "dns", "debug", "concepts",
        ])
        #expect(Self.cases.count == 44)
    }

    /// Every rule a topic declares is one the tests implement; a misspelt
    /// one is an error, not a rule quietly left out.
    @Test func topicsDeclareKnownRules() throws {
        for topic in Self.catalogue {
            #expect(throws: Never.self, "\(topic.name)") { try Normalizer.rules(named: topic.normalize) }
        }
        #expect(throws: Normalizer.UnknownRule.self) { try Normalizer.rules(named: ["clock-reading"]) }
    }

    @Test(arguments: cases)
    func exampleMatchesGolden(_ golden: Case) throws {
        let run = try Demo.run([golden.topic, golden.example])
        #expect(run.status == 0)
        #expect(run.stderr == "")
        let actual = normalise(run.stdout, rules: try Normalizer.rules(named: golden.rules))
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(
                at: golden.file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: golden.file, atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(golden.file.lastPathComponent); run again without UPDATE_GOLDEN")
            return
        }
        let expected = try String(contentsOf: golden.file, encoding: .utf8)
        #expect(actual == expected)
    }

    /// Running a whole topic runs its examples in order under heading lines.
    @Test(arguments: ["concepts", "coroutines", "futures", "tasks", "locks", "echo-server", "ssl-echo", "signals", "debug"])
    func topicRunsEveryExample(_ topic: String) throws {
        let run = try Demo.run([topic])
        #expect(run.status == 0)
        let rules = try Normalizer.rules(named: #require(Self.catalogue.first { $0.name == topic }).normalize)
        let expected = try Self.cases.filter { $0.topic == topic }.map { golden in
            "$ asyncio-demo \(topic) \(golden.example)\n\n" + (try String(contentsOf: golden.file, encoding: .utf8))
        }.joined(separator: "\n")
        #expect(normalise(run.stdout, rules: rules) == expected)
    }

    /// The synchronization chapter answers to its title as well.
    @Test func aliasRunsTheSameTopic() throws {
        let byAlias = try Demo.run(["synchronization", "lock"])
        let byName = try Demo.run(["locks", "lock"])
        #expect(byAlias.status == 0)
        #expect(byAlias.stderr == "")
        #expect(byAlias.stdout == byName.stdout)
    }

    /// Timers never fire early: each `call-at` callback runs at or after its
    /// deadline, and in deadline order.
    @Test func callAtFiresAtOrAfterDeadlines() throws {
        let run = try Demo.run(["scheduling", "call-at"])
        let start = try #require(number(after: "loop  time: ", in: run.stdout))
        let third = try #require(number(after: "callback 3 invoked at ", in: run.stdout))
        let second = try #require(number(after: "callback 2 invoked at ", in: run.stdout))
        let first = try #require(number(after: "callback 1 invoked at ", in: run.stdout))
        #expect(start <= third && third < second && second < first)
        #expect(second >= start + 0.1)
        #expect(first >= start + 0.2)
    }

    /// The address and process-ID rules replace real values only, the chunk
    /// rule joins split echo chunks only when every byte was received before
    /// it was sent, and a rule a topic does not declare changes nothing.
    @Test func normaliserKeepsWhatIsWrong() {
        let addresses = "EchoServer_::1_51234: connection accepted\nEchoClient: connecting to 127.0.0.1 port 8888"
        #expect(normalisePeerAddresses(addresses)
            == "EchoServer_<peer>: connection accepted\nEchoClient: connecting to <host> port <port>")
        #expect(normalise(addresses, rules: [.clockReadings, .splitEchoChunks]) == addresses)
        #expect(normalisePeerAddresses("EchoServer_unknown: connection accepted\nEchoClient: connecting to ? port 0")
            == "EchoServer_unknown: connection accepted\nEchoClient: connecting to ? port 0")
        let chunks = "e: received b'ab'\ne: sent b'a'\ne: received b'c'\ne: sent b'bc'"
        #expect(mergeSplitEchoChunks(chunks) == "e: received b'abc'\ne: sent b'abc'")
        #expect(normalise(chunks, rules: [.clockReadings, .peerAddresses]) == chunks)
        #expect(mergeSplitEchoChunks("e: sent b'ab'\ne: received b'a'\ne: received b'b'")
            == "e: sent b'ab'\ne: received b'ab'")
        let clock = "loop  time: 5123.4\ncallback 1 invoked at 5123.6"
        #expect(normaliseClockReadings(clock) == "loop  time: <time>\ncallback 1 invoked at <time>")
        #expect(normalise(clock, rules: [.peerAddresses, .splitEchoChunks]) == clock)
        #expect(normalise(clock, rules: []) == clock)
        let pid = "starting send_signals for 21772"
        #expect(normaliseProcessIDs(pid) == "starting send_signals for <pid>")
        #expect(normalise(pid, rules: [.clockReadings, .peerAddresses, .splitEchoChunks]) == pid)
        let noPID = "starting send_signals for 0\nwaiting for 2x\npid -1"
        #expect(normaliseProcessIDs(noPID) == noPID)
        #expect(normaliseProcessIDs("process started 4242\npid 17") == "process started <pid>\npid <pid>")
        let df = "read 332 bytes from stdout\nread 12 bytes from stdout\nFree space:\n/     : 1G\n/boot : 2G\n"
        #expect(normaliseDiskUsage(df) == "read <n> bytes from stdout\nFree space:\n<mount point>: <avail>\n")
    }

    private func number(after prefix: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}
