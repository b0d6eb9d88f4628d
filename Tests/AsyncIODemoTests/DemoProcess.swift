import Foundation

/// What one run of the built `asyncio-demo` printed, and how it exited.
struct DemoRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Demo {
    /// The executable in the build folder that also holds the test binary.
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        repeat {
            folder = folder.deletingLastPathComponent()
        } while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("asyncio-demo").path)
            && folder.path != "/"
        return folder.appendingPathComponent("asyncio-demo")
    }()

    /// Runs the demo with `arguments`; its output goes to files, so
    /// nothing it prints can block it.
    static func run(_ arguments: [String]) throws -> DemoRun {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("asyncio-demo-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return DemoRun(status: process.terminationStatus,
                       stdout: try String(contentsOf: outURL, encoding: .utf8),
                       stderr: try String(contentsOf: errURL, encoding: .utf8))
    }
}
