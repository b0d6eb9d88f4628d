import ArgumentParser
import AsyncIO

struct SubprocessCommand: TopicCommand {
    static let topic = Topic(
        name: "subprocess",
        section: "Working with Subprocesses",
        abstract: "Child processes through a SubprocessProtocol and through streams.",
        normalize: [.processIDs, .diskUsage],
        examples: [
            Example(name: "protocol", summary: "df's output arrives through a SubprocessProtocol.",
                    mirrors: "asyncio_subprocess_protocol.py: loop.subprocess_exec, SubprocessProtocol",
                    run: { try runDFWithProtocol(command: dfCommand) }),
            Example(name: "coroutine", summary: "The same with createSubprocessExec, reading line by line.",
                    mirrors: "asyncio_subprocess_coroutine.py: create_subprocess_exec, StreamReader.readline",
                    run: { try runDFWithStreams(command: dfCommand) }),
            Example(name: "write", summary: "Text sent to tr through communicate comes back in capitals.",
                    mirrors: "asyncio_subprocess_coroutine_write.py: Process.communicate",
                    run: { try runToUpper(command: trCommand) }),
        ]
    )
    static let configuration = makeConfiguration()

    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
    @Argument(parsing: .postTerminator,
              help: "After --: a command to run in place of the chapter's (df -hl, or tr for write).")
    var command: [String] = []

    func validate() throws {
        if !command.isEmpty, example == nil {
            throw ValidationError("a command after -- needs an example: protocol, coroutine or write")
        }
    }

    func run() throws {
        guard !command.isEmpty, let example else {
            try runTopic(Self.topic, example: example, learner)
            return
        }
        do {
            try learner.instrumenting {
                switch example {
                case "protocol": try runDFWithProtocol(command: command)
                case "coroutine": try runDFWithStreams(command: command)
                default: try runToUpper(command: command)
                }
            }
        } catch let error as OSError where error.filename != nil {
            printError("asyncio-demo: cannot run \(pythonRepr(command[0])): \(error)")
            throw ExitCode.failure
        }
    }
}

private let dfCommand = ["df", "-hl"]
private let trCommand = ["tr", "[:lower:]", "[:upper:]"]

// MARK: protocol

/// Keeps what the child writes to stdout and completes `done` with its
/// return code once it has exited.
@LoopActor
private final class DFProtocol: SubprocessProtocol {
    static let fdNames = ["stdin", "stdout", "stderr"]
    let done: Future<Int32>
    var buffer: [UInt8] = []
    var transport: SubprocessTransport?

    init(done: Future<Int32>) { self.done = done }

    func connectionMade(_ transport: SubprocessTransport) {
        print("process started \(transport.pid)")
        self.transport = transport
    }

    func pipeDataReceived(_ fd: Int32, _ data: [UInt8]) {
        print("read \(data.count) bytes from \(Self.fdNames[Int(fd)])")
        if fd == 1 { buffer += data }
    }

    func processExited() {
        print("process exited")
        let code = transport?.returncode ?? -1
        print("return code \(code)")
        try? done.setResult(code)
    }
}

private func runDFWithProtocol(command: [String]) throws {
    let (code, output) = try runUntilComplete { loop -> (Int32, [UInt8]) in
        print("in run_df")
        let commandDone = Future<Int32>(loop: loop)
        print("launching process")
        let (transport, dfProtocol) = try await loop.subprocessExec(
            { DFProtocol(done: commandDone) }, program: command[0], arguments: Array(command.dropFirst()),
            stdin: .inherit, stderr: .inherit)
        defer { transport.close() }
        print("waiting for process to complete")
        return (try await commandDone.value, dfProtocol.buffer)
    }
    report(returnCode: code, output: output, command: command)
}

// MARK: coroutine

private func runDFWithStreams(command: [String]) throws {
    let (code, output) = try runUntilComplete { _ -> (Int32, [UInt8]) in
        print("in run_df")
        var buffer: [UInt8] = []
        print("launching process")
        let process = try await createSubprocessExec(command[0], Array(command.dropFirst()), stdout: .pipe)
        print("process started \(process.pid)")
        let stdout = process.stdout!
        while true {
            let line = try await stdout.readline()
            print("read \(pythonRepr(bytes: line))")
            if line.isEmpty {
                print("no more output from command")
                break
            }
            buffer += line
        }
        print("waiting for process to complete")
        let code = try await process.wait()
        print("return code \(code)")
        return (code, buffer)
    }
    report(returnCode: code, output: output, command: command)
}

/// Prints the free space per file system, as the chapter does, from df's
/// real output; another command's output was shown as it arrived.
private func report(returnCode: Int32, output: [UInt8], command: [String]) {
    guard returnCode == 0 else {
        print("error exit \(returnCode)")
        return
    }
    guard command == dfCommand else { return }
    let rows = parseResults(String(decoding: output, as: UTF8.self))
    print("\nFree space:")
    for row in rows {
        let mount = row["Mounted"] ?? ""
        // Python's '{Mounted:25}': padded to 25, never cut.
        print(mount + String(repeating: " ", count: max(0, 25 - mount.count)) + ": " + (row["Avail"] ?? ""))
    }
}

/// df's rows as dictionaries keyed by its single-word headers (`Mounted
/// on` is read as `Mounted`, as the chapter's parser reads it).
func parseResults(_ output: String) -> [[String: String]] {
    print("parsing results")
    let lines = output.split(separator: "\n")
    guard let header = lines.first else { return [] }
    let headers = header.split(separator: " ").map(String.init)
    return lines.dropFirst().map { line in
        Dictionary(zip(headers, line.split(separator: " ").map(String.init)), uniquingKeysWith: { first, _ in first })
    }
}

// MARK: write

private func runToUpper(command: [String]) throws {
    let message = "\nThis message will be converted\nto all caps.\n"
    let result = try runUntilComplete { _ -> String in
        print("in to_upper")
        print("launching process")
        let process = try await createSubprocessExec(command[0], Array(command.dropFirst()),
                                                     stdin: .pipe, stdout: .pipe)
        print("pid \(process.pid)")
        print("communicating with process")
        let (stdout, _) = try await process.communicate(input: Array(message.utf8))
        print("waiting for process to complete")
        let code = try await process.wait()
        print("return code \(code)")
        return code == 0 ? String(decoding: stdout ?? [], as: UTF8.self) : ""
    }
    print("Original: \(pythonRepr(message))")
    print("Changed : \(pythonRepr(result))")
}
