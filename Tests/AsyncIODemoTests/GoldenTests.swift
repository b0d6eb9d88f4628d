import Foundation
import Testing

/// Golden-output tests: every example's output, normalised only where it
/// genuinely varies (clock readings), must equal its recorded file in
/// `Golden/<topic>/<example>.txt`. Set `UPDATE_GOLDEN=1` to re-record; a
/// re-recording run fails so a changed baseline is always noticed.
@Suite struct GoldenTests {
    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Case: CustomTestStringConvertible, Sendable {
        let topic: String
        let example: String
        var testDescription: String { "\(topic) \(example)" }
        var file: URL { GoldenTests.goldenFolder.appendingPathComponent(topic).appendingPathComponent("\(example).txt") }
    }

    /// Every example the demo lists, read from `asyncio-demo list --json`.
    static let cases: [Case] = {
        guard let run = try? Demo.run(["list", "--json"]), run.status == 0,
              let catalogue = try? JSONDecoder().decode([CatalogueTopic].self, from: Data(run.stdout.utf8))
        else { return [] }
        return catalogue.flatMap { topic in topic.examples.map { Case(topic: topic.name, example: $0.name) } }
    }()

    struct CatalogueTopic: Decodable {
        let name: String
        let examples: [CatalogueExample]
    }

    struct CatalogueExample: Decodable { let name: String }

    @Test func everyTopicHasExamples() {
        #expect(Set(Self.cases.map(\.topic)) == ["coroutines", "scheduling", "futures", "tasks", "control", "locks", "echo-server"])
        #expect(Self.cases.count == 28)
    }

    @Test(arguments: cases)
    func exampleMatchesGolden(_ golden: Case) throws {
        let run = try Demo.run([golden.topic, golden.example])
        #expect(run.status == 0)
        #expect(run.stderr == "")
        let actual = normalise(run.stdout)
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
    @Test(arguments: ["coroutines", "futures", "tasks", "locks", "echo-server"])
    func topicRunsEveryExample(_ topic: String) throws {
        let run = try Demo.run([topic])
        #expect(run.status == 0)
        let expected = try Self.cases.filter { $0.topic == topic }.map { golden in
            "$ asyncio-demo \(topic) \(golden.example)\n" + (try String(contentsOf: golden.file, encoding: .utf8))
        }.joined(separator: "\n")
        #expect(normalise(run.stdout) == expected)
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

    private func number(after prefix: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}

/// Replaces what genuinely differs between runs: clock readings, ports
/// and peer addresses, and how TCP happened to split the echoed bytes.
func normalise(_ text: String) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        for prefix in ["clock time: ", "loop  time: "] where line.hasPrefix(prefix) {
            return prefix + "<time>"
        }
        if let range = line.range(of: " invoked at ") {
            return line[..<range.upperBound] + "<time>"
        }
        return normaliseAddresses(String(line))
    }
    return mergeChunks(lines).joined(separator: "\n")
}

/// `EchoServer_::1_51234` → `EchoServer_<peer>`, `port 10000` → `port <port>`,
/// `connecting to 127.0.0.1` → `connecting to <host>`.
private func normaliseAddresses(_ line: String) -> String {
    var line = line
    for prefix in ["EchoServer_", "echo_"] {
        if line.hasPrefix(prefix), let colon = line.range(of: ": "),
           !line.hasPrefix("echo_client") {
            line = prefix + "<peer>" + line[colon.lowerBound...]
        }
    }
    if let range = line.range(of: "connecting to "), let port = line.range(of: " port ", range: range.upperBound..<line.endIndex) {
        line = line[..<range.upperBound] + "<host>" + line[port.lowerBound...]
    }
    if let range = line.range(of: " port "), line[range.upperBound...].allSatisfy(\.isNumber) {
        line = line[..<range.upperBound] + "<port>"
    }
    return line
}

/// Joins a run of one speaker's `received b'…'` / `sent b'…'` lines into
/// one `received` and one `sent` line, so the test checks the bytes and the
/// order of events, not how TCP split the stream.
private func mergeChunks(_ lines: [String]) -> [String] {
    func parse(_ line: String) -> (speaker: String, verb: String, payload: String)? {
        for verb in ["received", "sent"] {
            guard let range = line.range(of: ": \(verb) b'"), line.hasSuffix("'") else { continue }
            let payload = line[range.upperBound..<line.index(before: line.endIndex)]
            return (String(line[..<range.lowerBound]), verb, String(payload))
        }
        return nil
    }
    var out: [String] = []
    var index = 0
    while index < lines.count {
        guard let first = parse(lines[index]) else {
            out.append(lines[index])
            index += 1
            continue
        }
        var received = "", sent = ""
        var hasSent = false
        while index < lines.count, let chunk = parse(lines[index]), chunk.speaker == first.speaker {
            if chunk.verb == "received" { received += chunk.payload } else { sent += chunk.payload; hasSent = true }
            index += 1
        }
        out.append("\(first.speaker): received b'\(received)'")
        if hasSent { out.append("\(first.speaker): sent b'\(sent)'") }
    }
    return out
}
