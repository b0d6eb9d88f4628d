#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import DequeModule

/// The pool's side of one worker process: three pipes on the loop and the
/// calls sent to it, oldest first.
///
/// | worker's descriptor | carries | pool's end |
/// |---|---|---|
/// | 0 (stdin) | request frames | `requests`, written in batches |
/// | 1 (stdout) | what the functions print | `output`, relayed to the pool's stdout |
/// | 2 (stderr) | | the pool's own stderr, inherited |
/// | 3 | response frames | `responses`, read into `frames` |
///
/// Life cycle: running → stdin closed by the pool (shutdown) or the worker
/// died (the pool broke) → finished, once the process is reaped and every
/// pipe is closed; then it leaves the loop's open resources and the pool.
/// The worker and its pool hold each other until then.
@LoopActor
final class PoolWorker: LoopResource {
    let pid: Int32
    private let loop: EventLoop
    private var pool: ProcessPoolExecutor?
    private let coders: FunctionRegistry.Coders
    private var requests: StreamTransport!
    private var responses: StreamTransport!
    private var output: StreamTransport!
    private let frames = FrameBuffer()
    /// Request frames not yet handed to `requests`.
    private var outgoing: [UInt8] = []
    /// Calls sent and not answered, in the order they were sent.
    private(set) var inFlight = Deque<any PoolCallFuture>()
    /// When the worker last had work after being idle, or last answered:
    /// what the pool's estimate of a call's duration is measured from.
    private var busySince: Double?
    /// Its first answer includes the process's start-up: not measured.
    private var hasAnswered = false
    private var returncode: Int32?
    private var openPipes = 3
    private(set) var stdinClosed = false
    /// The worker ended while the pool needed it; told to the pool once.
    private var died = false
    private var finished = false

    /// Starts `executable` as a worker. Throws `OSError` naming the
    /// executable if it cannot be started.
    static func start(executable: String, name: String, loop: EventLoop, pool: ProcessPoolExecutor) throws -> PoolWorker {
        var opened: [Int32] = []
        do {
            func pipe() throws -> (read: Int32, write: Int32) {
                let ends = try Pipe.open()
                opened += [ends.read, ends.write]
                return ends
            }
            let requests = try pipe(), output = try pipe(), responses = try pipe()
            for fd in [requests.write, output.read, responses.read] { try Pipe.setNonBlocking(fd) }
            let pid = try Spawn.start(
                program: executable, arguments: [ProcessPoolExecutor.workerFlag], name: name,
                environment: nil, directory: nil,
                descriptors: [.copy(requests.read), .copy(output.write), .inherit, .copy(responses.write)])
            for fd in [requests.read, output.write, responses.write] { SystemCall.close(fd) }
            return PoolWorker(pid: pid, loop: loop, pool: pool,
                              requests: requests.write, output: output.read, responses: responses.read)
        } catch {
            for fd in opened { SystemCall.close(fd) }
            throw error
        }
    }

    private init(pid: Int32, loop: EventLoop, pool: ProcessPoolExecutor, requests: Int32, output: Int32, responses: Int32) {
        self.pid = pid
        self.loop = loop
        self.pool = pool
        coders = pool.coders
        self.requests = StreamTransport(loop: loop, channel: .pipe(PipeChannel(fd: requests, isWriteEnd: true)),
                                        protocol: RequestPipe(worker: self))
        self.output = StreamTransport(loop: loop, channel: .pipe(PipeChannel(fd: output, isWriteEnd: false)),
                                      protocol: OutputRelay(worker: self))
        self.responses = StreamTransport(loop: loop, channel: .pipe(PipeChannel(fd: responses, isWriteEnd: false)),
                                         protocol: ResponseReader(worker: self))
        loop.openResources.insert(self)
        loop.watchChild(pid) { [self] code in exited(code) }
    }

    /// Can take calls: running, and not asked to stop.
    var isAvailable: Bool { !stdinClosed && !died }

    // MARK: Sending

    /// Adds `call` to the batch `flush` sends.
    func send(_ call: PoolCall) {
        if inFlight.isEmpty { busySince = loop.time() }
        Frames.appendRequest(to: &outgoing, function: call.future.function, argument: call.argument)
        inFlight.append(call.future)
    }

    /// Writes the batch with one write (the transport queues what the pipe
    /// does not take).
    func flush() {
        guard !outgoing.isEmpty else { return }
        requests.write(outgoing)
        // Reused for the next batch, unless a big argument grew it.
        if outgoing.capacity > 1 << 20 { outgoing = [] } else { outgoing.removeAll(keepingCapacity: true) }
    }

    /// The worker reads what it was sent, then sees the end of its stdin and
    /// exits: the pool is shutting down.
    func closeStdin() {
        guard !stdinClosed else { return }
        flush()
        stdinClosed = true
        requests.close()
    }

    // MARK: Receiving

    /// Where the response pipe reads into.
    func responseBuffer() -> UnsafeMutableRawBufferPointer { frames.freeSpace() }

    /// `count` bytes of responses arrived: completes the calls they answer,
    /// after relaying what the worker printed before sending them.
    func responsesArrived(_ count: Int) {
        frames.didRead(count)
        output.readNow()
        var answered = 0
        while let frame = frames.nextFrame() {
            guard let status = frame.first.flatMap(ResponseStatus.init(rawValue:)), let call = inFlight.popFirst() else {
                return workerDied()  // not a pool's stream
            }
            call.complete(status, UnsafeRawBufferPointer(rebasing: frame.dropFirst()), coders: coders)
            answered += 1
        }
        if frames.isCorrupt { return workerDied() }
        guard answered > 0 else { return }
        let now = loop.time()
        if hasAnswered, let busySince { pool?.recordCallDuration((now - busySince) / Double(answered)) }
        hasAnswered = true
        busySince = inFlight.isEmpty ? nil : now
        pool?.workerAnswered()
    }

    /// Relays what the worker printed, through this process's stdio so it
    /// keeps its place among this process's own prints.
    func relay(_ data: [UInt8]) {
        data.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, clinux_stdout()) }
    }

    // MARK: Ending

    enum PipeKind { case requests, output, responses }

    func pipeClosed(_ kind: PipeKind) {
        openPipes -= 1
        // Before the pool closed stdin, or with calls unanswered, the end of
        // a pipe means the worker is gone.
        switch kind {
        case .requests: if !stdinClosed { workerDied() }
        case .responses: if !stdinClosed || !inFlight.isEmpty { workerDied() }
        case .output: break
        }
        finishIfDone()
    }

    private func exited(_ code: Int32) {
        returncode = code
        // Responses the worker sent before exiting may not have been read yet.
        responses.readNow()
        if !stdinClosed || !inFlight.isEmpty { workerDied() }
        finishIfDone()
    }

    private func workerDied() {
        guard !died, !finished else { return }
        died = true
        output.readNow()
        pool?.workerDied()
    }

    /// Fails the calls in flight with `error` and stops the worker at once:
    /// SIGKILL, and every pipe aborted (the pool broke).
    func terminate(failing error: any Error) {
        let calls = inFlight
        inFlight.removeAll()
        for call in calls { call.failCall(error) }
        outgoing.removeAll()
        stdinClosed = true
        // Not reaped yet (`returncode` is nil), so the PID is still this child's.
        if returncode == nil { try? Spawn.send(SIGKILL, to: pid) }
        requests.abort()
        responses.abort()
        output.abort()
    }

    private func finishIfDone() {
        guard !finished, returncode != nil, openPipes == 0 else { return }
        finished = true
        loop.openResources.remove(self)
        requests = nil
        responses = nil
        output = nil
        let pool = self.pool
        self.pool = nil
        pool?.workerFinished(self)
    }

    /// The loop closes with the worker running: its pipes are closed, so it
    /// exits after the call in hand, and it is reaped in the background.
    func endAtLoopClose() {
        stdinClosed = true
        inFlight.removeAll()
        requests?.abort()
        responses?.abort()
        output?.abort()
        if returncode == nil { loop.releaseChild(pid) }
        finished = true
        loop.openResources.remove(self)
        let pool = self.pool
        self.pool = nil
        pool?.loopClosed(self)
    }
}
