#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// Thin wrappers over the socket system calls: they retry EINTR, return nil
/// where the call would block, and throw `OSError` for anything else.
enum Socket {
    static func open(family: Int32, type: Int32 = Int32(SOCK_STREAM.rawValue)) throws(OSError) -> Int32 {
        let fd = socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OSError(errno: errno, operation: "socket") }
        return fd
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32 = 1) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws(OSError) {
        let status = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        guard status == 0 else { throw OSError(errno: errno, operation: "bind \(address)") }
    }

    static func listen(_ fd: Int32, backlog: Int) throws(OSError) {
        guard Glibc.listen(fd, Int32(backlog)) == 0 else { throw OSError(errno: errno, operation: "listen") }
    }

    /// A new non-blocking connection, or nil if none is waiting.
    static func accept(_ fd: Int32) throws(OSError) -> (Int32, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if client >= 0 { return (client, SocketAddress(storage: storage, length: length)) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED: return nil
            default: throw OSError(errno: errno, operation: "accept")
            }
        }
    }

    /// Starts connecting; returns false if the connection is in progress.
    static func connect(_ fd: Int32, to address: SocketAddress) throws(OSError) -> Bool {
        while true {
            if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return false
            default: throw OSError(errno: errno, operation: "connect to \(address)")
            }
        }
    }

    /// The error a non-blocking connect finished with, if any.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    /// Bytes read into `buffer`, 0 at end of stream, nil if none are ready.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> Int? {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw OSError(errno: errno, operation: "recv")
            }
        }
    }

    /// Bytes sent, nil if the socket's buffer is full. Never raises SIGPIPE.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(OSError) -> Int? {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw OSError(errno: errno, operation: "send")
            }
        }
    }

    /// Sends several buffers in one call; nil if the socket's buffer is full.
    static func sendMany(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> Int? {
        var message = msghdr()
        message.msg_iov = vectors.baseAddress
        message.msg_iovlen = vectors.count
        while true {
            let count = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw OSError(errno: errno, operation: "sendmsg")
            }
        }
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
