import Foundation
import Testing
import TestSupport

/// What one run of the built `asyncio-demo` printed, and how it exited.
struct DemoRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Demo {
    /// The executable in the build folder that also holds the test binary.
    static let binary = builtExecutable(named: "asyncio-demo")

    /// Runs the demo with `arguments` to the end and returns its output.
    static func run(_ arguments: [String]) throws -> DemoRun {
        let run = try ChildProcess.run(binary, arguments)
        return DemoRun(status: run.status, stdout: run.stdoutText, stderr: run.stderrText)
    }

    /// Starts the demo and leaves it running.
    static func start(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(binary, arguments)
    }
}

extension ChildProcess {
    /// The port a `--serve` demo listens on, from its `main: starting up on
    /// HOST port N` line. The asyncio logger's line comes first, as in the
    /// documentation's output; it must be that one and no other.
    func readStartupPort(host: String) throws -> Int {
        let selector = try #require(readLine(timeout: 30))
        #expect(selector == "asyncio: Using selector: EpollSelector")
        let line = try #require(readLine(timeout: 30))
        let prefix = "main: starting up on \(host) port "
        #expect(line.hasPrefix(prefix))
        return try #require(Int(line.dropFirst(prefix.count)))
    }
}
