#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A non-blocking descriptor carrying a byte stream, as `StreamTransport`
/// drives it: a connected socket here; a pipe to a child process is the
/// other kind. Its calls go through `SystemCall` and never raise SIGPIPE.
@LoopActor
protocol ByteChannel {
    /// The transport's name in its description, such as `SocketTransport`.
    static var transportName: String { get }
    /// What error reports call it, as asyncio does: `socket`, `pipe`.
    static var kind: String { get }
    var fd: Int32 { get }
    /// Reads into `buffer`; `.processed(0)` is the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int>
    func write(_ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int>
    func write(vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int>
    /// Whether the sending side can be closed alone (asyncio's `can_write_eof`).
    var canWriteEof: Bool { get }
    /// Closes the sending side, once everything queued has gone.
    func shutdownWrite()
    /// What `getExtraInfo(name)` answers for this kind of descriptor, while
    /// the descriptor is open (`isOpen`) and after.
    func extraInfo(_ name: String, isOpen: Bool) -> Any?
}

/// A connected stream socket (TCP or Unix-domain).
struct SocketChannel: ByteChannel {
    static var transportName: String { "SocketTransport" }
    static var kind: String { "socket" }
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

    @inline(__always)
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try Socket.receive(fd, into: buffer)
    }

    @inline(__always)
    func write(_ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try Socket.send(fd, bytes)
    }

    @inline(__always)
    func write(vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int> {
        try Socket.sendMany(fd, vectors)
    }

    var canWriteEof: Bool { true }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    func extraInfo(_ name: String, isOpen: Bool) -> Any? {
        switch name {
        case "peername": peer
        case "sockname": local
        case "socket": isOpen ? fd : nil
        default: nil
        }
    }
}

/// A connected socket's transport (asyncio's `_SelectorSocketTransport`).
typealias SocketTransport = StreamTransport<SocketChannel>
