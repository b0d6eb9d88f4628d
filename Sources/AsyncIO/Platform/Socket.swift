#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The socket system calls the runtime uses, through `SystemCall`: EINTR
/// retried, `.wouldBlock` where a non-blocking call would block, `OSError`
/// for anything else.
enum Socket {
    // Never inlined: with this typed-throws call inlined into an async
    // caller (`openUnixConnection`), Swift 6.3.1's coroutine splitting
    // crashes (-O).
    @inline(never)
    static func open(family: Int32, type: Int32 = Int32(SOCK_STREAM.rawValue), proto: Int32 = 0) throws(OSError) -> Int32 {
        try SystemCall.run("socket") {
            socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        }
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32 = 1) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws(OSError) {
        do {
            _ = try SystemCall.run("bind") { address.withSockaddr { Glibc.bind(fd, $0, $1) } }
        } catch {
            throw OSError(errno: error.errno, operation: "bind \(address)")
        }
    }

    static func listen(_ fd: Int32, backlog: Int) throws(OSError) {
        _ = try SystemCall.run("listen") { Glibc.listen(fd, Int32(backlog)) }
    }

    /// A new non-blocking connection, or `.wouldBlock` if none is waiting
    /// (a connection that was reset before it was accepted counts as none).
    static func accept(_ fd: Int32) throws(OSError) -> IOResult<(Int32, SocketAddress)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result: IOResult<Int>
        do {
            result = try SystemCall.nonBlocking("accept") {
                Int(withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    }
                })
            }
        } catch where error.errno == ECONNABORTED {
            return .wouldBlock
        }
        guard case .processed(let client) = result else { return .wouldBlock }
        return .processed((Int32(client), SocketAddress(storage: storage, length: length)))
    }

    /// Starts connecting; returns false if the connection is in progress.
    static func connect(_ fd: Int32, to address: SocketAddress) throws(OSError) -> Bool {
        do {
            _ = try SystemCall.run("connect") { address.withSockaddr { Glibc.connect(fd, $0, $1) } }
            return true
        } catch where error.errno == EINPROGRESS {
            return false
        } catch {
            throw OSError(errno: error.errno, operation: "connect to \(address)")
        }
    }

    /// The error a non-blocking connect finished with, if any.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    /// Reads into `buffer`; `.processed(0)` is the end of the stream.
    @inline(__always)
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try SystemCall.nonBlocking("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// Sends what the socket takes of `bytes`. Never raises SIGPIPE.
    @inline(__always)
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try SystemCall.nonBlocking("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends several buffers in one call. Never raises SIGPIPE.
    @inline(__always)
    static func sendMany(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int> {
        var message = msghdr()
        message.msg_iov = vectors.baseAddress
        message.msg_iovlen = vectors.count
        return try SystemCall.nonBlocking("sendmsg") { sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one datagram into `buffer`, with the address it came from. A
    /// datagram longer than `buffer` is cut short, as recvfrom(2) does.
    @inline(__always)
    static func receiveFrom(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer)
        throws(OSError) -> IOResult<(count: Int, address: SocketAddress)>
    {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try SystemCall.nonBlocking("recvfrom") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length)
                }
            }
        }
        guard case .processed(let count) = result else { return .wouldBlock }
        return .processed((count, SocketAddress(storage: storage, length: length)))
    }

    /// Sends `bytes` as one datagram to `address`, or to the connected peer
    /// when `address` is nil. Never raises SIGPIPE.
    @inline(__always)
    static func sendTo(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: SocketAddress?) throws(OSError) -> IOResult<Int> {
        guard let address else {
            return try SystemCall.nonBlocking("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
        return try SystemCall.nonBlocking("sendto") {
            address.withSockaddr { Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
    }

    /// The socket's type (`SOCK_STREAM`, `SOCK_DGRAM`, …), or nil if `fd`
    /// is not a socket.
    static func type(_ fd: Int32) -> Int32? {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 ? type : nil
    }

    /// Makes a descriptor someone else opened non-blocking.
    static func setNonBlocking(_ fd: Int32) throws(OSError) {
        let flags = try SystemCall.run("fcntl") { fcntl(fd, F_GETFL) }
        _ = try SystemCall.run("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getsockname)
    }

    static func peerAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getpeername)
    }

    private static func address(
        _ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage: storage, length: length) : nil
    }
}
