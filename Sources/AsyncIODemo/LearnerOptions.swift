import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What every topic offers a learner besides the output: the loop's events
/// beside it, a timeline of them, and the code that printed it.
struct LearnerOptions: ParsableArguments {
    @Flag(help: "Interleave the loop's events with the output, one '[loop]' line each.")
    var trace = false
    @Option(help: ArgumentHelp("Write the loop's events as a timeline in the Trace Event Format (JSON), "
                               + "for Perfetto or chrome://tracing.", valueName: "file"))
    var traceFile: String?
    @Flag(help: "Print the example's Swift source instead of running it.")
    var source = false

    /// Runs `body` with every loop it creates traced as asked, then writes
    /// the trace file, also when `body` fails.
    func instrumenting(_ body: () throws -> Void) throws {
        guard trace || traceFile != nil else { return try body() }
        let log = traceFile.map { _ in TraceEventLog() }
        let printLines = trace
        EventLoop.instrumentNewLoops { loop in
            var instruments: [any Instrument] = []
            if printLines { instruments.append(LoopTracer(loop: loop) { print($0) }) }
            if let log { instruments.append(log.recorder()) }
            return instruments
        }
        defer { EventLoop.instrumentNewLoops(nil) }
        do {
            try body()
        } catch {
            try? write(log)
            throw error
        }
        try write(log)
    }

    private func write(_ log: TraceEventLog?) throws {
        guard let log, let traceFile else { return }
        // Written beside the target and renamed over it, so a failed write
        // leaves no truncated trace behind.
        let bytes = Array(log.json().utf8)
        let partial = traceFile + ".partial"
        func failure(_ code: Int32) -> DemoFailure {
            DemoFailure(message: "cannot write the trace to \(traceFile): \(String(cString: strerror(code)))")
        }
        guard let file = fopen(partial, "w") else { throw failure(errno) }
        let written = fwrite(bytes, 1, bytes.count, file)
        var code = written < bytes.count ? errno : 0
        if fclose(file) != 0, code == 0 { code = errno }
        if code == 0, rename(partial, traceFile) != 0 { code = errno }
        if code != 0 {
            unlink(partial)
            throw failure(code)
        }
    }
}

/// The example's code as the demo was built from it: the `// MARK:`
/// sections of its topic's file that it names.
func source(of example: Example) -> String? {
    guard let text = embeddedTopicSources[example.source.file] else { return nil }
    var sections: [String] = []
    var current: [Substring]?
    var currentName = ""
    func close() {
        if let current, example.source.sections.contains(currentName) {
            sections.append(trimmed(current.joined(separator: "\n")))
        }
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if let mark = line.firstMatch(of: /^\/\/ MARK: (.+)$/) {
            close()
            currentName = String(mark.1)
            current = []
        } else {
            current?.append(line)
        }
    }
    close()
    guard sections.count == example.source.sections.count else { return nil }
    return "// \(example.source.file)\n\n" + sections.joined(separator: "\n\n") + "\n"
}

/// `text` without white space (newlines included) at either end.
private func trimmed(_ text: String) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}
