extension EventLoop {
    /// Starts `program` with `arguments`, without a shell, and connects a
    /// protocol from `protocolFactory` to it (asyncio's `subprocess_exec`).
    /// Returns once the protocol's `connectionMade` has run.
    ///
    /// A program that cannot be started throws `OSError` with its name and
    /// the reason (`[Errno 2] No such file or directory: 'nosuch'`); a
    /// working directory that cannot be entered, with the directory's name.
    @LoopActor
    public func subprocessExec<P: SubprocessProtocol>(
        _ protocolFactory: @LoopActor () -> P, program: String, arguments: [String] = [],
        stdin: SubprocessStdio = .pipe, stdout: SubprocessStdio = .pipe, stderr: SubprocessStdio = .pipe,
        environment: [String: String]? = nil, currentDirectory: String? = nil
    ) async throws -> (transport: SubprocessTransport, protocol: P) {
        checkOpen()
        let plan = try StdioPlan(stdin: stdin, stdout: stdout, stderr: stderr)
        let pid: Int32
        do {
            pid = try Spawn.start(program: program, arguments: arguments, environment: environment,
                                  directory: currentDirectory, descriptors: plan.descriptors)
        } catch {
            plan.closeAll()
            throw error
        }
        plan.closeChildEnds()

        let protocolObject = protocolFactory()
        let transport = SubprocessTransport(loop: self, pid: pid, protocol: protocolObject)
        watchChild(pid) { code in transport.processExited(code) }
        do {
            try await transport.connectPipes(plan.parentEnds)
        } catch {
            transport.close()
            _ = try? await transport.wait()
            throw error
        }
        return (transport, protocolObject)
    }

    /// Runs `command` with `/bin/sh -c` (asyncio's `subprocess_shell`).
    @LoopActor
    public func subprocessShell<P: SubprocessProtocol>(
        _ protocolFactory: @LoopActor () -> P, command: String,
        stdin: SubprocessStdio = .pipe, stdout: SubprocessStdio = .pipe, stderr: SubprocessStdio = .pipe,
        environment: [String: String]? = nil, currentDirectory: String? = nil
    ) async throws -> (transport: SubprocessTransport, protocol: P) {
        try await subprocessExec(protocolFactory, program: "/bin/sh", arguments: ["-c", command],
                                 stdin: stdin, stdout: stdout, stderr: stderr,
                                 environment: environment, currentDirectory: currentDirectory)
    }
}

/// The descriptors a child is started with, and the pipes made for it.
private struct StdioPlan {
    var descriptors: [ChildDescriptor] = []
    /// The child's end of each pipe, closed in the parent once it started.
    var childEnds: [Int32] = []
    /// The parent's end of each pipe, by the child's descriptor.
    var parentEnds: [(child: Int32, parent: Int32)] = []

    init(stdin: SubprocessStdio, stdout: SubprocessStdio, stderr: SubprocessStdio) throws {
        for (fd, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .inherit:
                descriptors.append(.inherit)
            case .devNull:
                descriptors.append(.devNull)
            case .fileDescriptor(let given):
                descriptors.append(.copy(given))
            case .stdout:
                guard fd == 2 else {
                    closeAll()
                    throw SubprocessError(message: ".stdout can only be used for stderr")
                }
                descriptors.append(.sameAs(1))
            case .pipe:
                do {
                    let ends = try Pipe.open()
                    let (child, parent) = fd == 0 ? (ends.read, ends.write) : (ends.write, ends.read)
                    childEnds.append(child)
                    parentEnds.append((fd, parent))
                    descriptors.append(.copy(child))
                    // Only the parent's end: the child's must block, as programs expect.
                    try Pipe.setNonBlocking(parent)
                } catch {
                    closeAll()
                    throw error
                }
            }
        }
    }

    func closeChildEnds() {
        for fd in childEnds { SystemCall.close(fd) }
    }

    func closeAll() {
        closeChildEnds()
        for end in parentEnds { SystemCall.close(end.parent) }
    }
}
