#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The non-blocking descriptor a `StreamTransport` drives: a connected
/// socket, or one end of a pipe (to or from a child process). A closed
/// enum rather than a protocol: the transport's calls are then switched
/// and inlined (through an existential each read and write cost about 50
/// more instructions, 5% of an echoed message). Every call goes through
/// `SystemCall` and never raises SIGPIPE.
@LoopActor
enum ByteChannel {
    case socket(SocketChannel)
    case pipe(PipeChannel)

    var fd: Int32 {
        switch self {
        case .socket(let socket): socket.fd
        case .pipe(let pipe): pipe.fd
        }
    }

    /// The transport's name in its description, as asyncio's class names.
    var transportName: String {
        switch self {
        case .socket: "SocketTransport"
        case .pipe(let pipe): pipe.isWriteEnd ? "WritePipeTransport" : "ReadPipeTransport"
        }
    }

    /// What error reports call it, as asyncio does: `socket`, `pipe`.
    var kind: String {
        switch self {
        case .socket: "socket"
        case .pipe: "pipe"
        }
    }

    /// Whether bytes come in: false for the write end of a pipe, where
    /// readiness to read means only that the reader went away.
    var isReadable: Bool {
        switch self {
        case .socket: true
        case .pipe(let pipe): !pipe.isWriteEnd
        }
    }

    /// Whether bytes go out: false for the read end of a pipe.
    var isWritable: Bool {
        switch self {
        case .socket: true
        case .pipe(let pipe): pipe.isWriteEnd
        }
    }

    /// Reads into `buffer`; `.processed(0)` is the end of the stream.
    @inline(__always)
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.receive(socket.fd, into: buffer)
        case .pipe(let pipe): try pipe.read(into: buffer)
        }
    }

    @inline(__always)
    func write(_ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.send(socket.fd, bytes)
        case .pipe(let pipe): try pipe.write(bytes)
        }
    }

    @inline(__always)
    func write(vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.sendMany(socket.fd, vectors)
        case .pipe(let pipe): try Pipe.writeMany(pipe.fd, vectors)
        }
    }

    /// Whether the sending side can be closed while reading goes on; a
    /// pipe has one side, so its end of file is closing it.
    var canHalfClose: Bool {
        switch self {
        case .socket: true
        case .pipe: false
        }
    }

    /// Closes the sending side, once everything queued has gone.
    func shutdownWrite() {
        switch self {
        case .socket(let socket): shutdown(socket.fd, Int32(SHUT_WR))
        case .pipe: preconditionFailure("a pipe's end of file is its close")
        }
    }

    /// What `getExtraInfo(name)` answers, while the descriptor is open
    /// (`isOpen`) and after.
    func extraInfo(_ name: String, isOpen: Bool) -> Any? {
        switch self {
        case .socket(let socket): socket.extraInfo(name, isOpen: isOpen)
        case .pipe(let pipe): name == "pipe" && isOpen ? pipe.fd : nil
        }
    }
}

/// A connected stream socket (TCP or Unix-domain), with the addresses
/// asyncio's transport reports, read once when it is wrapped.
final class SocketChannel: Sendable {
    let fd: Int32
    private let peer: SocketAddress?
    private let local: SocketAddress?

    init(fd: Int32) {
        self.fd = fd
        peer = Socket.peerAddress(fd)
        local = Socket.localAddress(fd)
        // Small writes go out at once, as asyncio sets TCP_NODELAY.
        Socket.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY)
    }

    func extraInfo(_ name: String, isOpen: Bool) -> Any? {
        switch name {
        case "peername": peer
        case "sockname": local
        case "socket": isOpen ? fd : nil
        default: nil
        }
    }
}

/// The parent's end of a pipe to or from a child process.
@LoopActor
final class PipeChannel {
    let fd: Int32
    let isWriteEnd: Bool
    private var isGrown = false

    init(fd: Int32, isWriteEnd: Bool) {
        self.fd = fd
        self.isWriteEnd = isWriteEnd
    }

    /// A read that takes as much as a pipe holds by default (64 KiB) found
    /// it full: the writer is faster than us.
    private static let fullRead = 1 << 16

    @inline(__always)
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        let result = try Pipe.read(fd, into: buffer)
        if case .processed(let count) = result, count >= Self.fullRead { filled() }
        return result
    }

    /// A write the pipe did not take whole found it full: the reader is
    /// slower than us.
    @inline(__always)
    func write(_ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        let result = try Pipe.write(fd, bytes)
        let sent = if case .processed(let count) = result { count } else { 0 }
        if sent < bytes.count { filled() }
        return result
    }

    /// The pipe filled up: it carries bulk data, so it gets a larger
    /// buffer, once. Pipes that never fill (most) keep the default and cost
    /// the system nothing more.
    private func filled() {
        guard !isGrown else { return }
        isGrown = true
        Pipe.grow(fd)
    }
}

/// A connected socket's transport (asyncio's `_SelectorSocketTransport`):
/// a `StreamTransport` over a socket channel.
typealias SocketTransport = StreamTransport
