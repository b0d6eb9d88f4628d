#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DequeModule

/// A connected stream socket driven by the loop (asyncio's
/// `_SelectorSocketTransport`): reads whenever the socket is readable and
/// hands the bytes to the protocol; writes at once when nothing is queued,
/// queues the rest and flushes it with scatter-gather writes when the socket
/// has room.
///
/// Life cycle: open → closing (no more reads; queued bytes still go out) →
/// closed (`connectionLost` called, descriptor closed). Every I/O error takes
/// the one path `fatalError(_:_:)`: report it, close at once, tell the protocol.
///
/// As in asyncio, the loop's reader and writer callbacks hold the transport:
/// it lives while the socket is watched, whoever else keeps a reference.
@LoopActor
public final class SocketTransport: Transport {
    private let loop: EventLoop
    private var fd: Int32
    /// The protocol, until `connectionLost` has run: letting go of it then
    /// breaks the cycle through a protocol that keeps its transport.
    private var receiver: Receiver?
    private weak var server: Server?
    private let peer: SocketAddress?
    private let local: SocketAddress?

    private var closing = false
    /// `connectionLost` is scheduled or done: the transport is finished.
    private var lost = false
    private var readingPaused = false
    private var eofRequested = false
    private var eofSent = false
    /// Writes attempted after the connection was lost, as asyncio counts them.
    private var writesAfterLoss = 0

    /// Bytes waiting to be sent, oldest first; `sentFromHead` bytes of the
    /// first chunk already went out.
    private var queue = Deque<[UInt8]>()
    private var sentFromHead = 0
    private var queuedBytes = 0
    private var highWater = 64 * 1024
    private var lowWater = 16 * 1024
    private var protocolPaused = false
    /// The most bytes queued since the queue was last empty.
    private var backlogPeak = 0

    /// Wraps connected socket `fd`. The protocol's `connectionMade` and the
    /// first read are scheduled, in that order, as in asyncio; `waiter`, if
    /// given, completes once both have happened.
    init(loop: EventLoop, fd: Int32, protocol: any BaseProtocol, server: Server? = nil, waiter: Future<Void>? = nil) {
        self.loop = loop
        self.fd = fd
        self.receiver = Receiver(`protocol`)
        self.server = server
        self.peer = Socket.peerAddress(fd)
        self.local = Socket.localAddress(fd)
        Socket.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY)
        server?.attach(self)
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
            try loop.addReader(fd, label: "socket read") { [self] in readReady() }
        } catch {
            fatalError(error, "Fatal error registering socket for reading")
        }
    }

    private func readReady() {
        guard !lost, let receiver else { return }
        do {
            let count: Int?
            switch receiver {
            case .buffered(let buffered):
                let target = buffered.getBuffer(-1)
                precondition(target.count > 0, "getBuffer() returned an empty buffer")
                count = try Socket.receive(fd, into: target)
                if let count, count > 0 { buffered.bufferUpdated(count) }
            case .streaming(let streaming):
                let target = loop.receiveBuffer
                count = try Socket.receive(fd, into: target)
                if let count, count > 0 {
                    streaming.dataReceived(Array(UnsafeRawBufferPointer(rebasing: target[..<count])))
                }
            }
            if count == 0 { readEOF() }
        } catch {
            fatalError(error, "Fatal read error on socket transport")
        }
    }

    private func readEOF() {
        let keepOpen = receiver?.eofReceived() ?? false
        if keepOpen {
            // Half-closed: nothing more to read, but writing goes on.
            loop.removeReader(fd)
        } else {
            close()
        }
    }

    public func pauseReading() {
        guard !closing, !readingPaused else { return }
        readingPaused = true
        loop.removeReader(fd)
    }

    public func resumeReading() {
        guard !closing, readingPaused else { return }
        readingPaused = false
        startReading()
    }

    public var isReading: Bool { !readingPaused && !closing }

    // MARK: Writing

    public func write(_ data: [UInt8]) {
        guard !data.isEmpty else { return }
        guard !eofRequested else {
            loop.callExceptionHandler(ExceptionContext(message: "Cannot call write() after write_eof(); data dropped"))
            return
        }
        guard !lost else {
            writesAfterLoss += 1
            if writesAfterLoss == 5 {
                asyncioLogger.warning("socket.send() raised exception.")
            }
            return
        }
        if queue.isEmpty {
            // Nothing queued: try the socket straight away.
            do {
                let sent = try data.withUnsafeBytes { bytes throws(OSError) in try Socket.send(fd, bytes) } ?? 0
                if sent == data.count { return }
                queue.append(sent == 0 ? data : Array(data[sent...]))
                queuedBytes += data.count - sent
                try loop.addWriter(fd, label: "socket write") { [self] in writeReady() }
            } catch {
                fatalError(error, "Fatal write error on socket transport")
                return
            }
        } else {
            queue.append(data)
            queuedBytes += data.count
        }
        maybePauseProtocol()
    }

    public func writelines(_ chunks: [[UInt8]]) {
        let chunks = chunks.filter { !$0.isEmpty }
        guard !chunks.isEmpty else { return }
        guard queue.isEmpty, !eofRequested, !lost else {
            for chunk in chunks { write(chunk) }
            return
        }
        for chunk in chunks {
            queue.append(chunk)
            queuedBytes += chunk.count
        }
        writeReady()
        if !queue.isEmpty, !lost {
            do {
                try loop.addWriter(fd, label: "socket write") { [self] in writeReady() }
            } catch {
                fatalError(error, "Fatal write error on socket transport")
                return
            }
            maybePauseProtocol()
        }
    }

    /// Sends as much of the queue as the socket takes, in one `sendmsg`.
    private func writeReady() {
        guard !lost else { return }
        do {
            while !queue.isEmpty {
                guard let sent = try sendQueued() else { return }
                consume(sent)
            }
        } catch {
            fatalError(error, "Fatal write error on socket transport")
            return
        }
        loop.removeWriter(fd)
        if backlogPeak >= releaseThreshold {
            backlogPeak = 0
            releaseFreedMemory()
        }
        maybeResumeProtocol()
        if closing {
            scheduleConnectionLost(nil)
        } else if eofRequested {
            shutdownWrite()
        }
    }

    /// At most this many chunks go into one `sendmsg`.
    private static let maxVectors = 64

    private func sendQueued() throws(OSError) -> Int? {
        let chunks = Array(queue.prefix(Self.maxVectors))
        var vectors: [iovec] = []
        vectors.reserveCapacity(chunks.count)
        let result: Result<Int?, OSError> = withVectors(chunks[...], skipping: sentFromHead, into: &vectors) { vectors in
            Result { () throws(OSError) -> Int? in try Socket.sendMany(fd, vectors) }
        }
        return try result.get()
    }

    /// Pins each chunk's bytes while `body` runs with their iovecs.
    private func withVectors<R>(_ chunks: ArraySlice<[UInt8]>, skipping offset: Int, into vectors: inout [iovec],
                                _ body: (UnsafeMutableBufferPointer<iovec>) -> R) -> R {
        guard let first = chunks.first else {
            return vectors.withUnsafeMutableBufferPointer { body($0) }
        }
        return first.withUnsafeBytes { bytes in
            let start = bytes.baseAddress!.advanced(by: offset)
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: start), iov_len: bytes.count - offset))
            return withVectors(chunks.dropFirst(), skipping: 0, into: &vectors, body)
        }
    }

    /// Drops `count` sent bytes from the front of the queue.
    private func consume(_ count: Int) {
        var remaining = count
        queuedBytes -= count
        while remaining > 0, let head = queue.first {
            let left = head.count - sentFromHead
            if remaining >= left {
                queue.removeFirst()
                sentFromHead = 0
                remaining -= left
            } else {
                sentFromHead += remaining
                remaining = 0
            }
        }
    }

    public func writeEof() {
        guard !closing, !eofRequested else { return }
        eofRequested = true
        if queue.isEmpty { shutdownWrite() }
    }

    private func shutdownWrite() {
        guard !eofSent else { return }
        eofSent = true
        shutdown(fd, Int32(SHUT_WR))
    }

    public func canWriteEof() -> Bool { true }

    public var writeBufferSize: Int { queuedBytes }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) {
        let high = high ?? (low.map { $0 * 4 } ?? 64 * 1024)
        let low = low ?? high / 4
        precondition(high >= low && low >= 0, "high (\(high)) must be >= low (\(low)) must be >= 0")
        highWater = high
        lowWater = low
        maybePauseProtocol()
    }

    private func maybePauseProtocol() {
        backlogPeak = max(backlogPeak, queuedBytes)
        guard queuedBytes > highWater, !protocolPaused else { return }
        protocolPaused = true
        receiver?.base.pauseWriting()
    }

    private func maybeResumeProtocol() {
        guard protocolPaused, queuedBytes <= lowWater else { return }
        protocolPaused = false
        receiver?.base.resumeWriting()
    }

    // MARK: Closing

    public var isClosing: Bool { closing }

    public func close() {
        guard !closing else { return }
        closing = true
        loop.removeReader(fd)
        if queue.isEmpty { scheduleConnectionLost(nil) }
    }

    public func abort() {
        forceClose(nil)
    }

    /// The single path for I/O errors: report what is not an ordinary
    /// disconnection, then close at once and tell the protocol.
    private func fatalError(_ error: any Error, _ message: String) {
        let ordinary = (error as? OSError).map { [EPIPE, ECONNRESET, ECONNABORTED, ETIMEDOUT].contains($0.errno) } ?? false
        if !ordinary {
            loop.callExceptionHandler(ExceptionContext(message: "\(message) \(self)", error: error))
        }
        forceClose(error)
    }

    private func forceClose(_ error: (any Error)?) {
        guard !lost else { return }
        queue.removeAll()
        queuedBytes = 0
        loop.removeWriter(fd)
        if !closing {
            closing = true
            loop.removeReader(fd)
        }
        scheduleConnectionLost(error)
    }

    private func scheduleConnectionLost(_ error: (any Error)?) {
        guard !lost else { return }
        lost = true
        loop.callSoon(label: "connection_lost") { [self] in
            defer {
                Glibc.close(fd)
                fd = -1
                receiver = nil
                server?.detach(self)
                server = nil
            }
            receiver?.base.connectionLost(error)
        }
    }

    // MARK: Information

    public var description: String {
        "<SocketTransport fd=\(fd) \(lost ? "closed" : closing ? "closing" : "open")>"
    }

    public func getExtraInfo(_ name: String) -> Any? {
        switch name {
        case "peername": peer
        case "sockname": local
        case "socket": fd >= 0 ? fd : nil
        default: nil
        }
    }
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
            preconditionFailure("a socket transport needs a StreamingProtocol or a BufferedProtocol")
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
