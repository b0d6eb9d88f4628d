#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A running child process and the pipes to it (asyncio's
/// `SubprocessTransport`).
///
/// Life cycle: pipes connect → `connectionMade` → data and pipe losses →
/// once the child has exited and every pipe is closed, `processExited`,
/// then `connectionLost`, then `wait()` returns. Until `connectionMade`
/// has run, events are held back, so the protocol sees them in order.
///
/// The loop's child watcher holds the transport until the child is
/// reaped, so a child is never left a zombie, however early the transport
/// is let go of.
@LoopActor
public final class SubprocessTransport: LoopResource, @LoopActor CustomStringConvertible {
    /// The child's process ID (asyncio's `get_pid()`).
    public let pid: Int32
    private let loop: EventLoop
    /// Let go of after `connectionLost`.
    private var protocolObject: (any SubprocessProtocol)?
    /// The links of the child's piped descriptors, by descriptor (0, 1, 2).
    private var pipes: [Int32: PipeLink] = [:]
    /// The child's return code once it has exited (asyncio's
    /// `get_returncode()`): its exit status, or minus the signal that
    /// killed it.
    public private(set) var returncode: Int32?
    private var exitWaiters: [Future<Int32>] = []
    /// Events that happened before `connectionMade`; nil once it has run.
    private var pendingCalls: [@LoopActor () -> Void]? = []
    /// `processExited` and `connectionLost` are scheduled or done.
    private var finished = false
    public private(set) var isClosing = false
    /// The loop closed with the child running: it is reaped elsewhere, so
    /// its PID may be reused and must not be signalled.
    private var isDetached = false

    init(loop: EventLoop, pid: Int32, protocol protocolObject: any SubprocessProtocol) {
        self.loop = loop
        self.pid = pid
        self.protocolObject = protocolObject
        loop.openResources.insert(self)
    }

    /// Wraps the parent's ends of the pipes (child descriptor → parent
    /// descriptor) in pipe transports, waits until each is reading, then
    /// schedules `connectionMade` and what happened meanwhile.
    func connectPipes(_ ends: [(child: Int32, parent: Int32)]) async throws {
        var waiters: [Future<Void>] = []
        for (child, parent) in ends {
            let link = PipeLink(fd: child, process: self)
            pipes[child] = link
            let waiter = Future<Void>(loop: loop)
            waiters.append(waiter)
            _ = StreamTransport(loop: loop, channel: .pipe(PipeChannel(fd: parent, isWriteEnd: child == 0)),
                                protocol: link, waiter: waiter)
        }
        do {
            for waiter in waiters { try await waiter.value }
        } catch {
            // Never connected: the protocol hears nothing, and what happens
            // next (the exit, the pipes closing) is not held back for a
            // `connectionMade` that will not come, so `wait()` can return.
            pendingCalls = nil
            protocolObject = nil
            throw error
        }
        let connected = Future<Void>(loop: loop)
        loop.callSoon(label: "connection_made") { [self] in protocolObject?.connectionMade(self) }
        for call in pendingCalls ?? [] { loop.callSoon(label: "subprocess event", call) }
        pendingCalls = nil
        loop.callSoon(label: "subprocess connected") { try connected.setResult(()) }
        try await connected.value
    }

    /// Runs `call` on the loop, after `connectionMade`.
    private func schedule(_ call: @escaping @LoopActor () -> Void) {
        if pendingCalls != nil {
            pendingCalls?.append(call)
        } else {
            loop.callSoon(label: "subprocess event", call)
        }
    }

    // MARK: Events

    func pipeDataReceived(_ fd: Int32, _ data: [UInt8]) {
        schedule { [self] in protocolObject?.pipeDataReceived(fd, data) }
    }

    func pipeConnectionLost(_ fd: Int32, _ error: (any Error)?) {
        schedule { [self] in protocolObject?.pipeConnectionLost(fd, error) }
        finishIfDone()
    }

    func processExited(_ code: Int32) {
        returncode = code
        finishIfDone()
    }

    func pauseProtocolWriting() { protocolObject?.pauseWriting() }

    func resumeProtocolWriting() { protocolObject?.resumeWriting() }

    /// Once the child has exited and every pipe is closed: `processExited`,
    /// `connectionLost`, then the waiters of `wait()`.
    private func finishIfDone() {
        guard !finished, let returncode, pipes.values.allSatisfy(\.isDisconnected) else { return }
        finished = true
        schedule { [self] in
            defer {
                for waiter in exitWaiters where !waiter.isDone { try? waiter.setResult(returncode) }
                exitWaiters = []
                protocolObject = nil
                loop.openResources.remove(self)
            }
            protocolObject?.processExited()
            protocolObject?.connectionLost(nil)
        }
    }

    // MARK: Using the child

    /// The transport of the pipe to (0) or from (1, 2) the child's
    /// descriptor `fd`, if that descriptor is piped.
    public func getPipeTransport(_ fd: Int32) -> (any Transport)? { pipes[fd]?.pipe }

    /// Waits until the child has exited and returns its return code (at
    /// once if it has).
    public func wait() async throws -> Int32 {
        if let returncode { return returncode }
        let waiter = Future<Int32>(loop: loop)
        exitWaiters.append(waiter)
        return try await waiter.value
    }

    /// Sends `signal` to the child, unless it has already exited. Throws
    /// `ProcessLookupError` (ESRCH) once the transport is finished.
    public func sendSignal(_ signal: Int32) throws {
        guard returncode == nil else {
            if finished { throw OSError(errno: ESRCH, operation: "kill") }
            return
        }
        guard !isDetached else { throw OSError(errno: ESRCH, operation: "kill") }
        // Safe from PID reuse: the child is not reaped before `returncode` is set.
        try Spawn.send(signal, to: pid)
    }

    /// Asks the child to stop (SIGTERM).
    public func terminate() throws { try sendSignal(SIGTERM) }

    /// Stops the child at once (SIGKILL).
    public func kill() throws { try sendSignal(SIGKILL) }

    /// Closes the pipes and, as asyncio does, kills the child if it is still
    /// running.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        for link in pipes.values { link.pipe?.close() }
        if returncode == nil, !isDetached { try? Spawn.send(SIGKILL, to: pid) }
    }

    /// The loop closes with the child running: the child is left running,
    /// as asyncio leaves it (the child watcher reaps it in the background);
    /// the protocol is let go of without further callbacks.
    func endAtLoopClose() {
        for link in pipes.values { link.pipe?.abort() }
        exitWaiters = []
        protocolObject = nil
        isDetached = true
        loop.openResources.remove(self)
    }

    var unclosedName: String? { "transport \(description)" }

    public var description: String {
        let state = isClosing ? " closed" : ""
        let code = returncode.map { " returncode=\($0)" } ?? " running"
        return "<SubprocessTransport\(state) pid=\(pid)\(code)>"
    }
}
