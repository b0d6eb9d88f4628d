#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A datagram socket's transport (asyncio's `_SelectorDatagramTransport`):
/// hands each datagram read to the protocol with its sender's address;
/// sends at once when nothing is buffered, else buffers the datagram and
/// sends the buffer in order when the socket has room, pausing and resuming
/// the protocol at the water marks.
///
/// Errors of a single send or receive (`ECONNREFUSED` after an ICMP port
/// unreachable, `EMSGSIZE`, …) go to the protocol's `errorReceived` and the
/// endpoint stays open, as in asyncio; only failing to watch the socket is
/// fatal.
///
/// Life cycle: open → closing (no more reads; buffered datagrams still go
/// out) → lost (`connectionLost` called exactly once, socket closed,
/// protocol let go). The loop's reader and writer callbacks hold the
/// transport while the socket is watched; after `connectionLost` it holds
/// nothing of the protocol's, so a protocol that keeps its transport makes
/// no cycle.
@LoopActor
final class SocketDatagramTransport: DatagramTransport, LoopResource {
    private let loop: EventLoop
    private let fd: Int32
    /// The protocol, until `connectionLost` has run.
    private var receiver: (any DatagramProtocol)?
    /// The remote address the endpoint was created with, where every
    /// datagram goes; the socket is connected to it unless broadcasting.
    private let remoteAddress: SocketAddress?
    private let local: SocketAddress?
    /// The connected peer: datagrams go with send(2), whatever `sendto` names.
    private let peer: SocketAddress?

    private var closing = false
    /// `connectionLost` is scheduled or done: the transport is finished.
    private var lost = false
    private var descriptorClosed = false
    /// Datagrams offered after the endpoint was lost, as asyncio counts them.
    private var sendsAfterLoss = 0

    private var queue = DatagramQueue()
    private var flow = FlowControl()

    /// Wraps the datagram socket `fd`, which it now owns. The protocol's
    /// `connectionMade` and the first read are scheduled, in that order, as
    /// in asyncio; `waiter`, if given, completes once both have happened.
    init(loop: EventLoop, fd: Int32, protocol: any DatagramProtocol, remoteAddress: SocketAddress?,
         waiter: Future<Void>? = nil) {
        self.loop = loop
        self.fd = fd
        self.receiver = `protocol`
        self.remoteAddress = remoteAddress
        local = Socket.localAddress(fd)
        peer = Socket.peerAddress(fd)
        loop.openResources.insert(self)
        loop.callSoon(label: "connection_made") { [self] in receiver?.connectionMade(self) }
        loop.callSoon(label: "start reading") { [self] in
            guard !closing else { return }
            do {
                try loop.addReader(fd, label: "datagram read") { [self] in readReady() }
            } catch {
                closeOnError(error, "Fatal error registering datagram socket for reading")
                return
            }
            if let waiter, !waiter.isDone { try waiter.setResult(()) }
        }
    }

    // MARK: Receiving

    /// One datagram per readiness event, as asyncio reads: epoll is
    /// level-triggered, so the next waiting datagram reports itself, and a
    /// request-response exchange is not charged a second recvfrom that
    /// finds nothing (about 8% of a loopback ping-pong round trip).
    private func readReady() {
        guard !closing, let receiver else { return }
        let buffer = loop.receiveBuffer
        do {
            guard case .processed(let (count, address)) = try Socket.receiveFrom(fd, into: buffer) else { return }
            receiver.datagramReceived(Array(UnsafeRawBufferPointer(rebasing: buffer[..<count])), address)
        } catch {
            receiver.errorReceived(error)
        }
    }

    // MARK: Sending

    func sendto(_ data: [UInt8], _ addr: SocketAddress?) throws(DatagramError) {
        var destination = addr
        if let remoteAddress {
            if let addr, !addr.isSameEndpoint(as: remoteAddress) { throw .invalidAddress(expected: remoteAddress) }
            destination = remoteAddress
        } else if addr == nil, peer == nil {
            throw .addressRequired
        }
        if peer != nil { destination = nil }
        guard !lost else {
            sendsAfterLoss += 1
            if sendsAfterLoss == 5 { asyncioLogger.warning("socket.send() raised exception.") }
            return
        }
        if queue.isEmpty {
            // Nothing buffered: try the socket straight away.
            do {
                if case .processed = try send(data, to: destination) { return }
            } catch {
                receiver?.errorReceived(error)
                return
            }
            do {
                try loop.addWriter(fd, label: "datagram write") { [self] in sendtoReady() }
            } catch {
                closeOnError(error, "Fatal error registering datagram socket for writing")
                return
            }
        }
        queue.append(data, to: destination)
        if flow.shouldPause(buffered: queue.byteCount) { receiver?.pauseWriting() }
    }

    /// Sends buffered datagrams in order while the socket takes them. A
    /// datagram whose send fails is dropped and its error reported; the rest
    /// wait for the next readiness event.
    private func sendtoReady() {
        guard !lost else { return }
        while let (data, destination) = queue.first {
            let result: IOResult<Int>
            do {
                result = try send(data, to: destination)
            } catch {
                queue.removeFirst()
                receiver?.errorReceived(error)
                return
            }
            guard case .processed = result else { break }
            queue.removeFirst()
        }
        // The protocol may send more from resumeWriting.
        if flow.shouldResume(buffered: queue.byteCount) { receiver?.resumeWriting() }
        if queue.isEmpty, !lost {
            loop.removeWriter(fd)
            if closing { scheduleConnectionLost(nil) }
        }
    }

    private func send(_ data: [UInt8], to destination: SocketAddress?) throws(OSError) -> IOResult<Int> {
        // Array's withUnsafeBytes rethrows untyped; the Result keeps the type.
        try data.withUnsafeBytes { bytes in
            Result { () throws(OSError) -> IOResult<Int> in try Socket.sendTo(fd, bytes, to: destination) }
        }.get()
    }

    var writeBufferSize: Int { queue.byteCount }

    func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) {
        flow.setLimits(high: high, low: low)
        if flow.shouldPause(buffered: queue.byteCount) { receiver?.pauseWriting() }
    }

    // MARK: Closing

    var isClosing: Bool { closing }

    func close() {
        guard !closing else { return }
        closing = true
        loop.removeReader(fd)
        if queue.isEmpty { scheduleConnectionLost(nil) }
    }

    func abort() {
        forceClose(nil)
    }

    func endAtLoopClose() { abort() }

    /// The fatal path (asyncio's `_fatal_error`): report, close at once,
    /// tell the protocol.
    private func closeOnError(_ error: any Error, _ message: String) {
        loop.callExceptionHandler(ExceptionContext(message: "\(message) \(description)", error: error))
        forceClose(error)
    }

    private func forceClose(_ error: (any Error)?) {
        guard !lost else { return }
        queue.removeAll()
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
                SystemCall.close(fd)
                descriptorClosed = true
                receiver = nil
                loop.openResources.remove(self)
            }
            receiver?.connectionLost(error)
        }
    }

    // MARK: Information

    var unclosedName: String? { "transport \(description)" }

    var description: String {
        "<DatagramTransport fd=\(descriptorClosed ? -1 : fd) \(lost ? "closed" : closing ? "closing" : "open")>"
    }

    func getExtraInfo(_ name: String) -> Any? {
        switch name {
        case "sockname": local
        case "peername": peer
        case "socket": descriptorClosed ? nil : fd
        default: nil
        }
    }
}
