/// Where a child's standard stream comes from or goes to (asyncio's
/// `subprocess.PIPE`, `DEVNULL`, `None`, a file descriptor, `STDOUT`).
public enum SubprocessStdio: Sendable, Equatable {
    /// A pipe between the parent and the child.
    case pipe
    case devNull
    /// The parent's own stream.
    case inherit
    /// A descriptor the parent holds; the child gets a copy.
    case fileDescriptor(Int32)
    /// For stderr only: wherever stdout goes.
    case stdout
}

/// The callbacks of a child process's protocol (asyncio's
/// `SubprocessProtocol`), run on the loop. Every pipe reports
/// `pipeConnectionLost` before `processExited`, so no output is lost
/// whatever the order the kernel reports them in; `connectionLost` comes
/// last.
@LoopActor
public protocol SubprocessProtocol: AnyObject {
    /// The child is running and its pipes are connected.
    func connectionMade(_ transport: SubprocessTransport)
    /// The child wrote `data` to its descriptor `fd` (1 or 2).
    func pipeDataReceived(_ fd: Int32, _ data: [UInt8])
    /// The pipe to or from the child's descriptor `fd` closed; `error` is
    /// nil when it closed normally.
    func pipeConnectionLost(_ fd: Int32, _ error: (any Error)?)
    /// The child exited, and every pipe is closed.
    func processExited()
    /// After `processExited`: the transport is finished.
    func connectionLost(_ error: (any Error)?)
    /// The child's stdin pipe buffers more than its high-water mark.
    func pauseWriting()
    /// The child's stdin pipe drained below its low-water mark.
    func resumeWriting()
}

extension SubprocessProtocol {
    public func connectionMade(_ transport: SubprocessTransport) {}
    public func pipeDataReceived(_ fd: Int32, _ data: [UInt8]) {}
    public func pipeConnectionLost(_ fd: Int32, _ error: (any Error)?) {}
    public func processExited() {}
    public func connectionLost(_ error: (any Error)?) {}
    public func pauseWriting() {}
    public func resumeWriting() {}
}
