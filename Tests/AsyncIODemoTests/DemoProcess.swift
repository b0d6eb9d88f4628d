import Foundation
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
