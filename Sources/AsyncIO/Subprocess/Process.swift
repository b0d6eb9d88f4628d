#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A child process driven with streams (asyncio's `asyncio.subprocess.Process`),
/// from `createSubprocessExec` or `createSubprocessShell`.
@LoopActor
public final class Process: @LoopActor CustomStringConvertible {
    /// Writes to the child's stdin, when it is `.pipe`.
    public let stdin: StreamWriter?
    /// Reads the child's stdout, when it is `.pipe`.
    public let stdout: StreamReader?
    /// Reads the child's stderr, when it is `.pipe`.
    public let stderr: StreamReader?
    let transport: SubprocessTransport

    fileprivate init(transport: SubprocessTransport, protocol streams: SubprocessStreamProtocol) {
        self.transport = transport
        stdin = streams.stdin
        stdout = streams.stdout
        stderr = streams.stderr
    }

    public var pid: Int32 { transport.pid }

    /// The return code once the child has exited and been reaped: its exit
    /// status, or minus the signal that killed it (-9 for SIGKILL).
    public var returncode: Int32? { transport.returncode }

    /// Waits for the child to exit and returns its return code.
    public func wait() async throws -> Int32 { try await transport.wait() }

    public func sendSignal(_ signal: Int32) throws { try transport.sendSignal(signal) }
    public func terminate() throws { try transport.terminate() }
    public func kill() throws { try transport.kill() }

    /// Sends `input` to stdin and closes it, reads stdout and stderr to
    /// their end, all at once so that no pipe fills up while another is
    /// waited for, then waits for the child to exit. A stream that is not
    /// piped gives nil. A child that stops reading its stdin early is not
    /// an error here, as in asyncio.
    public func communicate(input: [UInt8]? = nil) async throws -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        let loop = runningLoop()
        var parts: [LoopTask<[UInt8]>] = []
        if let stdin {
            parts.append(loop.createTask(coroutine: "_feed_stdin") { [stdin] () -> [UInt8] in
                if let input, !input.isEmpty {
                    stdin.write(input)
                    do {
                        try await stdin.drain()
                    } catch let error as OSError where [EPIPE, ECONNRESET].contains(error.errno) {
                        // The child exited or closed stdin without reading it all.
                    }
                }
                stdin.close()
                return []
            })
        }
        let outputs = [(Int32(1), stdout), (2, stderr)].map { fd, reader in
            reader.map { reader in
                loop.createTask(coroutine: "_read_stream") { [transport] () -> [UInt8] in
                    let output = try await reader.read()
                    transport.getPipeTransport(fd)?.close()
                    return output
                }
            }
        }
        parts += outputs.compactMap { $0 }
        let results = try await gather(parts)
        var next = stdin == nil ? 0 : 1
        func take(_ task: LoopTask<[UInt8]>?) -> [UInt8]? {
            guard task != nil else { return nil }
            defer { next += 1 }
            return results[next]
        }
        let out = take(outputs[0])
        let err = take(outputs[1])
        _ = try await wait()
        return (out, err)
    }

    public var description: String { "<Process \(pid)>" }
}

/// Connects a child's pipes to streams (asyncio's `SubprocessStreamProtocol`).
@LoopActor
final class SubprocessStreamProtocol: SubprocessProtocol {
    private let limit: Int
    private let loop: EventLoop
    private(set) var stdin: StreamWriter?
    private(set) var stdout: StreamReader?
    private(set) var stderr: StreamReader?
    /// For `stdin.drain()`: writing to a child that is gone is a broken pipe.
    private let drain: DrainGate

    init(limit: Int, loop: EventLoop) {
        self.limit = limit
        self.loop = loop
        drain = DrainGate(loop: loop, lostError: OSError(errno: EPIPE, operation: "write"))
    }

    func connectionMade(_ transport: SubprocessTransport) {
        for fd in [Int32(1), 2] {
            guard let pipe = transport.getPipeTransport(fd) else { continue }
            let reader = StreamReader(limit: limit, loop: loop)
            reader.setTransport(pipe)
            if fd == 1 { stdout = reader } else { stderr = reader }
        }
        if let pipe = transport.getPipeTransport(0) {
            stdin = StreamWriter(transport: pipe, drain: drain, reader: nil)
        }
    }

    func pipeDataReceived(_ fd: Int32, _ data: [UInt8]) {
        (fd == 1 ? stdout : fd == 2 ? stderr : nil)?.feedData(data)
    }

    func pipeConnectionLost(_ fd: Int32, _ error: (any Error)?) {
        if fd == 0 {
            stdin?.close()
            drain.connectionLost(error)
            return
        }
        guard let reader = fd == 1 ? stdout : stderr else { return }
        if let error { reader.setException(error) } else { reader.feedEof() }
    }

    func pauseWriting() { drain.pause() }
    func resumeWriting() { drain.resume() }
}

extension EventLoop {
    /// Starts `program` with `arguments`, without a shell, and returns it
    /// with streams for the pipes asked for (asyncio's
    /// `create_subprocess_exec`). Streams default to the parent's own.
    @LoopActor
    public func createSubprocessExec(
        _ program: String, _ arguments: [String] = [],
        stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
        environment: [String: String]? = nil, currentDirectory: String? = nil,
        limit: Int = StreamReader.defaultLimit
    ) async throws -> Process {
        let (transport, streams) = try await subprocessExec(
            { SubprocessStreamProtocol(limit: limit, loop: self) }, program: program, arguments: arguments,
            stdin: stdin, stdout: stdout, stderr: stderr,
            environment: environment, currentDirectory: currentDirectory)
        return Process(transport: transport, protocol: streams)
    }

    /// Runs `command` with `/bin/sh -c` (asyncio's `create_subprocess_shell`).
    @LoopActor
    public func createSubprocessShell(
        _ command: String,
        stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
        environment: [String: String]? = nil, currentDirectory: String? = nil,
        limit: Int = StreamReader.defaultLimit
    ) async throws -> Process {
        try await createSubprocessExec("/bin/sh", ["-c", command], stdin: stdin, stdout: stdout, stderr: stderr,
                                       environment: environment, currentDirectory: currentDirectory, limit: limit)
    }
}

/// `createSubprocessExec` on the running loop.
@LoopActor
public func createSubprocessExec(
    _ program: String, _ arguments: [String] = [],
    stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
    environment: [String: String]? = nil, currentDirectory: String? = nil,
    limit: Int = StreamReader.defaultLimit
) async throws -> Process {
    try await runningLoop().createSubprocessExec(program, arguments, stdin: stdin, stdout: stdout, stderr: stderr,
                                                 environment: environment, currentDirectory: currentDirectory,
                                                 limit: limit)
}

/// `createSubprocessShell` on the running loop.
@LoopActor
public func createSubprocessShell(
    _ command: String,
    stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
    environment: [String: String]? = nil, currentDirectory: String? = nil,
    limit: Int = StreamReader.defaultLimit
) async throws -> Process {
    try await runningLoop().createSubprocessShell(command, stdin: stdin, stdout: stdout, stderr: stderr,
                                                  environment: environment, currentDirectory: currentDirectory,
                                                  limit: limit)
}
