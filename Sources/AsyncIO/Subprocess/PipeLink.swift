/// The protocol of one pipe to or from a child (asyncio's
/// `ReadSubprocessPipeProto` and `WriteSubprocessPipeProto`): passes what
/// happens on the pipe to the child's transport, tagged with the child's
/// descriptor number.
@LoopActor
final class PipeLink: StreamingProtocol {
    /// The child's descriptor: 0, 1 or 2.
    let fd: Int32
    /// Let go of when the pipe is lost, which ends the cycle through the
    /// transport's `pipes`.
    private var process: SubprocessTransport?
    private(set) var pipe: (any Transport)?
    private(set) var isDisconnected = false

    init(fd: Int32, process: SubprocessTransport) {
        self.fd = fd
        self.process = process
    }

    func connectionMade(_ transport: any Transport) {
        pipe = transport
        // Closed before this pipe was connected: close it now.
        if process?.isClosing ?? false { transport.close() }
    }

    func dataReceived(_ data: [UInt8]) { process?.pipeDataReceived(fd, data) }

    func connectionLost(_ error: (any Error)?) {
        isDisconnected = true
        process?.pipeConnectionLost(fd, error)
        process = nil
    }

    func pauseWriting() { process?.pauseProtocolWriting() }

    func resumeWriting() { process?.resumeProtocolWriting() }
}
