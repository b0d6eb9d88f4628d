#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one flow-controlled byte-stream transport, over any `ByteChannel`
/// (asyncio's selector transports): reads whenever the descriptor is
/// readable and hands the bytes to the protocol; writes at once when
/// nothing is queued, queues the rest and flushes it with scatter-gather
/// writes when the descriptor has room, pausing and resuming the protocol
/// at the water marks.
///
/// Life cycle: open → closing (no more reads; queued bytes still go out) →
/// lost (`connectionLost` called exactly once, descriptor closed, protocol
/// let go). Every I/O error takes the one path `closeOnError(_:_:)`:
/// report it, close at once, tell the protocol.
///
/// As in asyncio, the loop's reader and writer callbacks hold the
/// transport: it lives while the descriptor is watched, whoever else keeps
/// a reference. After `connectionLost` it holds nothing of the protocol's,
/// so a protocol that keeps its transport makes no cycle.
@LoopActor
final class StreamTransport: Transport, LoopResource {
    private let loop: EventLoop
    private let channel: ByteChannel
    // Hot state is `@exclusivity(unchecked)`, as the loop's own: only the
    // loop thread touches it, never through overlapping inout accesses.
    /// The protocol, until `connectionLost` has run.
    @exclusivity(unchecked) private var receiver: Receiver?
    /// The server that accepted this connection, told when it ends.
    private weak var server: Server?

    @exclusivity(unchecked) private var closing = false
    /// `connectionLost` is scheduled or done: the transport is finished.
    @exclusivity(unchecked) private var lost = false
    private var descriptorClosed = false
    @exclusivity(unchecked) private var readingPaused = false
    @exclusivity(unchecked) private var eofRequested = false
    private var eofSent = false
    /// Writes attempted after the connection was lost, as asyncio counts them.
    private var writesAfterLoss = 0

    @exclusivity(unchecked) private var queue = WriteQueue()
    @exclusivity(unchecked) private var flow = FlowControl()

    /// Wraps `channel`. The protocol's `connectionMade` and the first read
    /// are scheduled, in that order, as in asyncio; `waiter`, if given,
    /// completes once both have happened.
    init(loop: EventLoop, channel: ByteChannel, protocol: any BaseProtocol, server: Server? = nil,
         waiter: Future<Void>? = nil) {
        self.loop = loop
        self.channel = channel
        self.receiver = Receiver(`protocol`)
        self.server = server
        server?.attach(self)
        loop.openResources.insert(self)
        loop.callSoon(label: "connection_made") { [self] in receiver?.base.connectionMade(self) }
        loop.callSoon(label: "start reading") { [self] in
            guard !closing else { return }
            startReading()
            if let waiter, !waiter.isDone { try waiter.setResult(()) }
        }
    }

    // MARK: Reading

    private func startReading() {
        do {
            try loop.addReader(channel.fd, label: "transport read") { [self] in _ = readReady() }
        } catch {
            closeOnError(error, "Fatal error registering \(channel.kind) for reading")
        }
    }

    /// One read, as the descriptor turned readable; true if it filled the
    /// buffer, so more may be waiting.
    private func readReady() -> Bool {
        guard !lost else { return false }
        guard channel.isReadable else {
            readerWentAway()
            return false
        }
        let capacity: Int
        do {
            let result: IOResult<Int>
            switch receiver {
            case nil:
                return false
            case .buffered(let buffered)?:
                let target = buffered.getBuffer(-1)
                precondition(target.count > 0, "getBuffer() returned an empty buffer")
                capacity = target.count
                result = try channel.read(into: target)
                if case .processed(let count) = result, count > 0 { buffered.bufferUpdated(count) }
            case .streaming(let streaming)?:
                let target = loop.receiveBuffer
                capacity = target.count
                result = try channel.read(into: target)
                if case .processed(let count) = result, count > 0 {
                    streaming.dataReceived(Array(UnsafeRawBufferPointer(rebasing: target[..<count])))
                }
            }
            switch result {
            case .processed(0): readEOF()
            case .processed(let count): return count == capacity
            case .wouldBlock: break
            }
        } catch {
            closeOnError(error, "Fatal read error on \(channel.kind) transport")
        }
        return false
    }

    /// Reads everything the descriptor holds now, without waiting for the
    /// loop to report it readable: a process pool relays what a worker
    /// printed before handing out the results the worker sent after it.
    func readNow() {
        while isReading, readReady() {}
    }

    private func readEOF() {
        if receiver?.eofReceived() ?? false {
            // Half-closed: nothing more to read, but writing goes on.
            loop.removeReader(channel.fd)
        } else {
            close()
        }
    }

    /// The write end of a pipe turned readable: the reader closed its end.
    /// Bytes still queued can never arrive (asyncio's `BrokenPipeError`).
    private func readerWentAway() {
        forceClose(queue.isEmpty ? nil : OSError(errno: EPIPE, operation: "write"))
    }

    func pauseReading() {
        guard channel.isReadable, !closing, !readingPaused else { return }
        readingPaused = true
        loop.removeReader(channel.fd)
    }

    func resumeReading() {
        guard channel.isReadable, !closing, readingPaused else { return }
        readingPaused = false
        startReading()
    }

    var isReading: Bool { !readingPaused && !closing }

    // MARK: Writing

    func write(_ data: [UInt8]) {
        guard !data.isEmpty, canAcceptWrite() else { return }
        if queue.isEmpty {
            let sent = data.withUnsafeBytes { writeAtOnce($0) }
            guard let sent, sent < data.count else { return }
            // Queued without copying: the array is kept as it is.
            queue.append(data, sent: sent)
        } else {
            queue.append(data)
        }
        pauseProtocolIfFull()
    }

    /// `write` for bytes the caller reuses as soon as this returns (the TLS
    /// layer's shared ciphertext buffer): sent straight from them when
    /// nothing is queued, and only what the socket did not take is copied.
    func write(bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, canAcceptWrite() else { return }
        if queue.isEmpty {
            guard let sent = writeAtOnce(bytes), sent < bytes.count else { return }
            queue.append(Array(bytes[sent...]), sent: 0)
        } else {
            queue.append(Array(bytes))
        }
        pauseProtocolIfFull()
    }

    /// False, after reporting why, when a write must be dropped.
    private func canAcceptWrite() -> Bool {
        guard channel.isWritable else {
            writeToReadOnly()
            return false
        }
        guard !eofRequested else {
            loop.callExceptionHandler(ExceptionContext(message: "Cannot call write() after write_eof(); data dropped"))
            return false
        }
        guard !lost else {
            writesAfterLoss += 1
            if writesAfterLoss == 5 {
                asyncioLogger.warning("socket.send() raised exception.")
            }
            return false
        }
        return true
    }

    /// With nothing queued: sends what the descriptor takes now and returns
    /// how much that was; when some is left the caller queues it, and the
    /// writer callback is already watching. nil after an error, which has
    /// closed the transport.
    private func writeAtOnce(_ bytes: UnsafeRawBufferPointer) -> Int? {
        do {
            let result = try channel.write(bytes)
            let sent = if case .processed(let count) = result { count } else { 0 }
            if sent < bytes.count {
                try loop.addWriter(channel.fd, label: "transport write") { [self] in writeReady() }
            }
            return sent
        } catch {
            closeOnError(error, "Fatal write error on \(channel.kind) transport")
            return nil
        }
    }

    func writelines(_ chunks: [[UInt8]]) {
        let chunks = chunks.filter { !$0.isEmpty }
        guard !chunks.isEmpty else { return }
        guard channel.isWritable else { return writeToReadOnly() }
        guard queue.isEmpty, !eofRequested, !lost else {
            for chunk in chunks { write(chunk) }
            return
        }
        for chunk in chunks { queue.append(chunk) }
        writeReady()
        if !queue.isEmpty, !lost {
            do {
                try loop.addWriter(channel.fd, label: "transport write") { [self] in writeReady() }
            } catch {
                closeOnError(error, "Fatal write error on \(channel.kind) transport")
                return
            }
            pauseProtocolIfFull()
        }
    }

    /// Sends as much of the queue as the descriptor takes, one
    /// scatter-gather write at a time.
    private func writeReady() {
        guard !lost else { return }
        do {
            while !queue.isEmpty {
                let result = queue.withVectors { vectors in
                    Result { () throws(OSError) -> IOResult<Int> in try channel.write(vectors: vectors) }
                }
                guard case .processed(let sent) = try result.get() else { return }
                queue.consume(sent)
            }
        } catch {
            closeOnError(error, "Fatal write error on \(channel.kind) transport")
            return
        }
        loop.removeWriter(channel.fd)
        if queue.takePeak() >= releaseThreshold { MemoryRelease.request(on: loop) }
        if flow.shouldResume(buffered: queue.byteCount) { receiver?.base.resumeWriting() }
        if closing {
            scheduleConnectionLost(nil)
        } else if eofRequested {
            shutdownWrite()
        }
    }

    private func writeToReadOnly() {
        loop.callExceptionHandler(ExceptionContext(message: "write() on \(description), which only reads; data dropped"))
    }

    private func pauseProtocolIfFull() {
        if flow.shouldPause(buffered: queue.byteCount) { receiver?.base.pauseWriting() }
    }

    func writeEof() {
        guard channel.canHalfClose else { return close() }
        guard !closing, !eofRequested else { return }
        eofRequested = true
        if queue.isEmpty { shutdownWrite() }
    }

    private func shutdownWrite() {
        guard !eofSent else { return }
        eofSent = true
        channel.shutdownWrite()
    }

    func canWriteEof() -> Bool { channel.isWritable }

    var writeBufferSize: Int { queue.byteCount }

    func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) {
        flow.setLimits(high: high, low: low)
        pauseProtocolIfFull()
    }

    // MARK: Closing

    var isClosing: Bool { closing }

    func close() {
        guard !closing else { return }
        closing = true
        loop.removeReader(channel.fd)
        if queue.isEmpty { scheduleConnectionLost(nil) }
    }

    func abort() {
        forceClose(nil)
    }

    func endAtLoopClose() { abort() }

    /// The single path for I/O errors (asyncio's `_fatal_error`): report
    /// what is not an ordinary disconnection, then close at once and tell
    /// the protocol.
    private func closeOnError(_ error: any Error, _ message: String) {
        let ordinary = (error as? OSError).map { [EPIPE, ECONNRESET, ECONNABORTED, ETIMEDOUT].contains($0.errno) } ?? false
        if !ordinary {
            loop.callExceptionHandler(ExceptionContext(message: "\(message) \(description)", error: error))
        }
        forceClose(error)
    }

    private func forceClose(_ error: (any Error)?) {
        guard !lost else { return }
        queue.removeAll()
        loop.removeWriter(channel.fd)
        if !closing {
            closing = true
            loop.removeReader(channel.fd)
        }
        scheduleConnectionLost(error)
    }

    private func scheduleConnectionLost(_ error: (any Error)?) {
        guard !lost else { return }
        lost = true
        loop.callSoon(label: "connection_lost") { [self] in
            defer {
                SystemCall.close(channel.fd)
                descriptorClosed = true
                receiver = nil
                loop.openResources.remove(self)
                server?.detach(self)
                server = nil
            }
            receiver?.base.connectionLost(error)
        }
    }

    // MARK: Layering

    /// Hands the connection to another protocol (asyncio's `set_protocol`):
    /// `startTLS` puts its TLS layer here.
    func setProtocol(_ protocolObject: any BaseProtocol) {
        guard !lost else { return }
        receiver = Receiver(protocolObject)
    }

    /// Tells the server that accepted this connection to close and abort
    /// it through `face`, the transport its application uses.
    func presentToServer(as face: any Transport) {
        server?.present(self, as: face)
    }

    // MARK: Information

    var description: String {
        "<\(channel.transportName) fd=\(descriptorClosed ? -1 : channel.fd) \(lost ? "closed" : closing ? "closing" : "open")>"
    }

    func getExtraInfo(_ name: String) -> Any? { channel.extraInfo(name, isOpen: !descriptorClosed) }

    var unclosedName: String? { "transport \(description)" }
}

/// A transport's protocol, by the way it takes incoming bytes.
@LoopActor
private enum Receiver {
    case streaming(any StreamingProtocol)
    case buffered(any BufferedProtocol)

    init(_ protocolObject: any BaseProtocol) {
        if let buffered = protocolObject as? any BufferedProtocol {
            self = .buffered(buffered)
        } else if let streaming = protocolObject as? any StreamingProtocol {
            self = .streaming(streaming)
        } else {
            preconditionFailure("a stream transport needs a StreamingProtocol or a BufferedProtocol")
        }
    }

    var base: any BaseProtocol {
        switch self {
        case .streaming(let streaming): streaming
        case .buffered(let buffered): buffered
        }
    }

    func eofReceived() -> Bool {
        switch self {
        case .streaming(let streaming): streaming.eofReceived()
        case .buffered(let buffered): buffered.eofReceived()
        }
    }
}
