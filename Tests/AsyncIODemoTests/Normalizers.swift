import Foundation

/// The normalisation rules the golden tests implement, by the names topics
/// declare under `"normalize"` in `asyncio-demo list --json`. Each rule
/// replaces one part of the output that genuinely differs between runs and
/// leaves everything else alone, so a topic compares byte for byte except
/// where it says it varies.
enum Normalizer: String, CaseIterable, Sendable {
    // The order of the cases is the order rules are applied in.
    case clockReadings = "clock-readings"
    case peerAddresses = "peer-addresses"
    case splitEchoChunks = "split-echo-chunks"
    case processIDs = "process-ids"
    case diskUsage = "disk-usage"
    case executorWorkers = "executor-workers"
    case resolvedNames = "resolved-names"
    case slowCallbacks = "slow-callbacks"
    case loopTimings = "loop-timings"

    struct UnknownRule: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "unknown normalisation rule '\(name)'; known: \(Normalizer.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }

    /// The rules a topic declares. An unknown name throws rather than being
    /// skipped, so a typo cannot silently turn a rule off.
    static func rules(named names: [String]) throws -> [Normalizer] {
        try names.map { name in
            guard let rule = Normalizer(rawValue: name) else { throw UnknownRule(name: name) }
            return rule
        }
    }

    func apply(to text: String) -> String {
        switch self {
        case .clockReadings: normaliseClockReadings(text)
        case .peerAddresses: normalisePeerAddresses(text)
        case .splitEchoChunks: mergeSplitEchoChunks(text)
        case .processIDs: normaliseProcessIDs(text)
        case .diskUsage: normaliseDiskUsage(text)
        case .executorWorkers: normaliseExecutorWorkers(text)
        case .resolvedNames: normaliseResolvedNames(text)
        case .slowCallbacks: normaliseSlowCallbacks(text)
        case .loopTimings: normaliseTraceTimings(text).replacing(/\bfd \d+\b/, with: "fd <n>")
        }
    }
}

/// Applies `rules` in the fixed order of `Normalizer.allCases`, whatever
/// order they are given in; with no rules the text comes back unchanged.
/// By default the echo server's rules, for tests that check its output
/// without going through the catalogue.
func normalise(_ text: String, rules: [Normalizer] = [.peerAddresses, .splitEchoChunks]) -> String {
    Normalizer.allCases.filter(rules.contains).reduce(text) { text, rule in rule.apply(to: text) }
}

private func mapLines(_ text: String, _ transform: (String) -> String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { transform(String($0)) }.joined(separator: "\n")
}

// MARK: clock-readings

/// `clock time: 1718000000.123` (the wall clock), `loop  time: 5123.4` and
/// `callback 1 invoked at 5123.6` (the loop's monotonic clock) read clocks
/// that differ on every run: the reading becomes `<time>`. That the
/// readings are in the right order is checked separately, on the raw output.
func normaliseClockReadings(_ text: String) -> String {
    mapLines(text) { line in
        for prefix in ["clock time: ", "loop  time: "] where line.hasPrefix(prefix) {
            return prefix + "<time>"
        }
        if let range = line.range(of: " invoked at ") {
            return line[..<range.upperBound] + "<time>"
        }
        return line
    }
}

// MARK: peer-addresses

/// `EchoServer_::1_51234` → `EchoServer_<peer>`, `port 10000` → `port <port>`,
/// `connecting to 127.0.0.1` → `connecting to <host>`: the server binds an
/// ephemeral port and the kernel picks the client's, and the host may be
/// IPv4 or IPv6. Only real values are replaced: an IP address and a port
/// from 1 to 65535 for a peer, a host name or IP address for a host, a port
/// from 1 to 65535. So a missing peer (`EchoServer_unknown`,
/// `connecting to ? port 0`) stays as it is and does not match the golden.
func normalisePeerAddresses(_ text: String) -> String {
    mapLines(text) { line in
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

// MARK: split-echo-chunks

/// TCP may split the echoed bytes differently on every run, so a run of
/// one speaker's `received b'…'` / `sent b'…'` lines becomes one `received`
/// and one `sent` line, checking the bytes, not how they were split. That
/// is done only when the run keeps an echo's order: every byte sent was
/// received before it, chunk by chunk. A run that sends before it
/// receives keeps its real order (only consecutive lines with the same verb
/// are joined), so it does not match the golden.
func mergeSplitEchoChunks(_ text: String) -> String {
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
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
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
    return out.joined(separator: "\n")
}

// MARK: process-ids

/// `process started 4242`, `pid 4242`, `starting send_signals for 4242`:
/// the kernel gives each process a new ID on every run, which becomes
/// `<pid>`. Only a real ID ends such a line, a decimal from 1 to the
/// kernel's limit (2^22), so a missing one (`pid 0`, `for -1`) stays as it
/// is and does not match the golden.
func normaliseProcessIDs(_ text: String) -> String {
    mapLines(text) { line in
        for prefix in ["process started ", "pid ", "starting send_signals for "] where line.hasPrefix(prefix) {
            let id = line.dropFirst(prefix.count)
            guard id.first != "0", id.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let pid = Int(id), pid <= 1 << 22 else { return line }
            return prefix + "<pid>"
        }
        return line
    }
}

// MARK: disk-usage

/// df's output depends on the machine's file systems: the lines that carry
/// it collapse to one placeholder line per kind, so the golden holds the
/// order of events and the shape of each line. Each run of `read N bytes
/// from stdout` lines (a pipe may deliver the output in several reads)
/// becomes `read <n> bytes from stdout`; each run of `read b'…'` lines but
/// the final `read b''` becomes `read b'<df line>'`; the `mount : avail`
/// lines after `Free space:` become `<mount point> : <avail>`. That those
/// lines come from df's real output is checked separately.
func normaliseDiskUsage(_ text: String) -> String {
    var output: [String] = []
    var inFreeSpace = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        let replacement: String
        if line.hasPrefix("read "), line.hasSuffix(" bytes from stdout") {
            replacement = "read <n> bytes from stdout"
        } else if line.hasPrefix("read b'"), line != "read b''" {
            replacement = "read b'<df line>'"
        } else if inFreeSpace, line.contains(": ") {
            replacement = "<mount point>: <avail>"
        } else {
            replacement = line
        }
        inFreeSpace = line == "Free space:" || (inFreeSpace && line.contains(": "))
        if replacement != line, output.last == replacement { continue }
        output.append(replacement)
    }
    return output.joined(separator: "\n")
}

// MARK: executor-workers

/// The chapter's executor examples log from the main thread
/// (`run_blocking_tasks`) and from pool workers (`blocks(n)`). Which worker
/// runs which call, and how the workers' lines interleave with each other
/// and with the main thread's `waiting for executor tasks`, is up to the
/// scheduler. So each worker line's source (`ThreadPoolExecutor-0_1`,
/// `PID 4242`) becomes `<worker>`, the main process's `PID 4242` becomes
/// `PID <pid>`, and the worker lines are sorted by call and put after
/// `waiting for executor tasks`; the main lines keep their order. That three distinct
/// workers ran, each call's `running` before its `done`, is checked
/// separately on the raw output.
func normaliseExecutorWorkers(_ text: String) -> String {
    var before: [String] = [], workers: [String] = [], after: [String] = []
    var waited = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if let logger = line.range(of: " blocks(") {
            workers.append("<worker> " + line[logger.lowerBound...].drop { $0 == " " })
            continue
        }
        var line = line
        // `PID %(process)5s`: the ID is padded to five columns.
        let id = line.dropFirst(4).drop { $0 == " " }
        if line.hasPrefix("PID "), let end = id.firstIndex(of: " "), Int(id[..<end]) != nil {
            line = "PID <pid>" + line[end...]
        }
        if waited { after.append(line) } else { before.append(line) }
        if line.hasSuffix("run_blocking_tasks: waiting for executor tasks") { waited = true }
    }
    // By call, `running` before `done`, so the golden reads as a story.
    let sorted = workers.sorted { a, b in
        (callNumber(a), a.hasSuffix(": done") ? 1 : 0) < (callNumber(b), b.hasSuffix(": done") ? 1 : 0)
    }
    return (before + sorted + after).joined(separator: "\n")
}

/// The n of a `blocks(n)` line.
private func callNumber(_ line: String) -> Int {
    guard let open = line.range(of: "blocks(") else { return -1 }
    return Int(line[open.upperBound...].prefix { $0.isNumber }) ?? -1
}

// MARK: resolved-names

/// What a host name resolves to depends on the machine (/etc/hosts, the
/// resolver), and so does the name an address resolves back to: in
/// `localhost           : 127.0.0.1` the addresses of a name (one line
/// each) become one `<address>` line, and in `127.0.0.1      : localhost
/// https` the host name becomes `<name>`. Literal addresses resolve to
/// themselves and stay. That the lines are what the system says is checked
/// separately against Python's own lookups.
func normaliseResolvedNames(_ text: String) -> String {
    var output: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        guard let colon = line.range(of: ": ") else {
            output.append(line)
            continue
        }
        let target = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)
        let answer = line[colon.upperBound...]
        let isLiteral = target.contains(":") || target.allSatisfy { $0.isNumber || $0 == "." }
        if let space = answer.firstIndex(of: " ") {
            output.append(String(line[..<colon.upperBound]) + "<name>" + String(answer[space...]))
        } else if !isLiteral {
            let placeholder = String(line[..<colon.upperBound]) + "<address>"
            if output.last != placeholder { output.append(placeholder) }
        } else {
            output.append(line)
        }
    }
    return output.joined(separator: "\n")
}

// MARK: slow-callbacks

/// `WARNING: Executing <…> took 0.101 seconds`: only the warning about the
/// step the example makes slow (its `inner` coroutine's) is kept, with the
/// duration as `<duration>`. With a 1 ms threshold any other step may cross
/// it on a loaded machine.
func normaliseSlowCallbacks(_ text: String) -> String {
    let warning = /^(WARNING: Executing .*) took \d+\.\d+ seconds$/
    return text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
        guard let match = line.wholeMatch(of: warning) else { return String(line) }
        guard match.1.contains("coro=<inner()") else { return nil }
        return "\(match.1) took <duration> seconds"
    }.joined(separator: "\n")
}
