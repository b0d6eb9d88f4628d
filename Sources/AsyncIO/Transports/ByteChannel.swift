#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The non-blocking descriptor a `StreamTransport` drives: a connected
/// socket here; a pipe to a child process will be the second case. A closed
/// enum rather than a protocol: the transport's calls are then switched
/// and inlined (through an existential each read and write cost about 50
/// more instructions, 5% of an echoed message). Every call goes through
/// `SystemCall` and never raises SIGPIPE.
@LoopActor
enum ByteChannel {
    case socket(SocketChannel)

    var fd: Int32 {
        switch self {
        case .socket(let socket): socket.fd
        }
    }

    /// The transport's name in its description, such as `SocketTransport`.
    var transportName: String {
        switch self {
        case .socket: "SocketTransport"
        }
    }

    /// What error reports call it, as asyncio does: `socket`, `pipe`.
    var kind: String {
        switch self {
        case .socket: "socket"
        }
    }

    /// Reads into `buffer`; `.processed(0)` is the end of the stream.
    @inline(__always)
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.receive(socket.fd, into: buffer)
        }
    }

    @inline(__always)
    func write(_ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.send(socket.fd, bytes)
        }
    }

    @inline(__always)
    func write(vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int> {
        switch self {
        case .socket(let socket): try Socket.sendMany(socket.fd, vectors)
        }
    }

    /// Whether the sending side can be closed alone (asyncio's `can_write_eof`).
    var canWriteEof: Bool {
        switch self {
        case .socket: true
        }
    }

    /// Closes the sending side, once everything queued has gone.
    func shutdownWrite() {
        switch self {
        case .socket(let socket): shutdown(socket.fd, Int32(SHUT_WR))
        }
    }

    /// What `getExtraInfo(name)` answers, while the descriptor is open
    /// (`isOpen`) and after.
    func extraInfo(_ name: String, isOpen: Bool) -> Any? {
        switch self {
        case .socket(let socket): socket.extraInfo(name, isOpen: isOpen)
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

/// A connected socket's transport (asyncio's `_SelectorSocketTransport`):
/// a `StreamTransport` over a socket channel.
typealias SocketTransport = StreamTransport
