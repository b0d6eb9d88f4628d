import Foundation
import Testing

/// Golden-output tests: every example's output, normalised only where it
/// genuinely varies (clock readings), must equal its recorded file in
/// `Golden/<topic>/<example>.txt`. Set `UPDATE_GOLDEN=1` to re-record; a
/// re-recording run fails so a changed baseline is always noticed.
@Suite(.timeLimit(.minutes(1))) struct GoldenTests {
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

    /// The normaliser replaces real addresses only, and joins split echo
    /// chunks only when every byte was received before it was sent.
    @Test func normaliserKeepsWhatIsWrong() {
        #expect(normalise("EchoServer_::1_51234: connection accepted\nEchoClient: connecting to 127.0.0.1 port 8888")
            == "EchoServer_<peer>: connection accepted\nEchoClient: connecting to <host> port <port>")
        #expect(normalise("EchoServer_unknown: connection accepted\nEchoClient: connecting to ? port 0")
            == "EchoServer_unknown: connection accepted\nEchoClient: connecting to ? port 0")
        #expect(normalise("e: received b'ab'\ne: sent b'a'\ne: received b'c'\ne: sent b'bc'")
            == "e: received b'abc'\ne: sent b'abc'")
        #expect(normalise("e: sent b'ab'\ne: received b'a'\ne: received b'b'")
            == "e: sent b'ab'\ne: received b'ab'")
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
/// `connecting to 127.0.0.1` → `connecting to <host>`. Only real values are
/// replaced: an IP address and a port from 1 to 65535 for a peer, a host
/// name or IP address for a host, a port from 1 to 65535. So a missing peer
/// (`EchoServer_unknown`, `connecting to ? port 0`) stays as it is and
/// does not match the golden.
private func normaliseAddresses(_ line: String) -> String {
    var line = line
    for prefix in ["EchoServer_", "echo_"] where line.hasPrefix(prefix) && !line.hasPrefix("echo_client") {
        guard let colon = line.range(of: ": ") else { continue }
        let peer = line[line.index(line.startIndex, offsetBy: prefix.count)..<colon.lowerBound]
        guard let separator = peer.lastIndex(of: "_"),
              isIPAddress(peer[..<separator]), isPort(peer[peer.index(after: separator)...])
        else { continue }
        line = prefix + "<peer>" + line[colon.lowerBound...]
    }
    if let range = line.range(of: "connecting to "),
       let port = line.range(of: " port ", range: range.upperBound..<line.endIndex),
       isHost(line[range.upperBound..<port.lowerBound]) {
        line = line[..<range.upperBound] + "<host>" + line[port.lowerBound...]
    }
    if let range = line.range(of: " port ", options: .backwards), isPort(line[range.upperBound...]) {
        line = line[..<range.upperBound] + "<port>"
    }
    return line
}

private func isIPAddress(_ text: Substring) -> Bool {
    var storage = in6_addr()
    return inet_pton(AF_INET, String(text), &storage) == 1 || inet_pton(AF_INET6, String(text), &storage) == 1
}

/// An IP address or a host name such as `localhost`.
private func isHost(_ text: Substring) -> Bool {
    isIPAddress(text) || (!text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
}

/// A decimal port from 1 to 65535, as a bound socket reports it.
private func isPort(_ text: Substring) -> Bool {
    guard let first = text.first, first != "0", text.allSatisfy({ $0.isASCII && $0.isNumber }),
          let port = Int(text) else { return false }
    return port <= 65535
}

/// TCP may split the echoed bytes differently on every run, so a run of
/// one speaker's `received b'…'` / `sent b'…'` lines becomes one `received`
/// and one `sent` line, checking the bytes, not how they were split. That
/// is done only when the run keeps an echo's order: every byte sent was
/// received before it, chunk by chunk. A run that sends before it
/// receives keeps its real order (only consecutive lines with the same verb
/// are joined), so it does not match the golden.
private func mergeChunks(_ lines: [String]) -> [String] {
    struct Chunk {
        let speaker: String
        let verb: String
        let payload: String
    }
    func parse(_ line: String) -> Chunk? {
        for verb in ["received", "sent"] {
            guard let range = line.range(of: ": \(verb) b'"), line.hasSuffix("'") else { continue }
            let payload = line[range.upperBound..<line.index(before: line.endIndex)]
            return Chunk(speaker: String(line[..<range.lowerBound]), verb: verb, payload: String(payload))
        }
        return nil
    }
    func joined(_ chunks: [Chunk]) -> [Chunk] {
        var out: [Chunk] = []
        for chunk in chunks {
            if let last = out.last, last.verb == chunk.verb {
                out[out.count - 1] = Chunk(speaker: last.speaker, verb: last.verb, payload: last.payload + chunk.payload)
            } else {
                out.append(chunk)
            }
        }
        return out
    }
    var out: [String] = []
    var index = 0
    while index < lines.count {
        guard let first = parse(lines[index]) else {
            out.append(lines[index])
            index += 1
            continue
        }
        var run: [Chunk] = []
        while index < lines.count, let chunk = parse(lines[index]), chunk.speaker == first.speaker {
            run.append(chunk)
            index += 1
        }
        var received = "", sent = ""
        var echoOrder = true
        for chunk in run {
            if chunk.verb == "received" {
                received += chunk.payload
            } else {
                sent += chunk.payload
                if !received.hasPrefix(sent) { echoOrder = false }
            }
        }
        let chunks = echoOrder ? joined(run.filter { $0.verb == "received" } + run.filter { $0.verb == "sent" }) : joined(run)
        out += chunks.map { "\($0.speaker): \($0.verb) b'\($0.payload)'" }
    }
    return out
}
