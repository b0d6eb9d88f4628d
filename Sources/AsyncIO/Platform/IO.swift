#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a non-blocking system call did: it went through (with its count;
/// a read of 0 bytes is the end of the stream, as read(2) says), or it
/// would have blocked and should be tried again once the descriptor is
/// ready. Failures are thrown as `OSError`.
@usableFromInline
enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

/// The one way the runtime makes a system call: EINTR is retried, EAGAIN
/// becomes `.wouldBlock`, and EFAULT, which only a bug can cause (the
/// runtime passed a bad address), stops the process with a message instead
/// of being reported as an I/O error. EBADF is thrown: the descriptor may
/// be one the caller of `sockRecv` and the like gave us.
enum SystemCall {
    /// Runs `call`, which returns -1 and sets errno on failure. Not generic
    /// over the integer type: generic comparisons cost more than the call.
    @inline(__always)
    static func nonBlocking(_ name: StaticString, _ call: () -> Int) throws(OSError) -> IOResult<Int> {
        while true {
            let result = call()
            if result >= 0 { return .processed(result) }
            let error = errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw failure(error, name)
            }
        }
    }

    /// Runs a call that does not block, or whose blocking is wanted.
    @inline(__always)
    static func run(_ name: StaticString, _ call: () -> Int32) throws(OSError) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            let error = errno
            if error == EINTR { continue }
            throw failure(error, name)
        }
    }

    /// Closes `fd`. On Linux the descriptor is gone even when close reports
    /// EINTR or an I/O error, so it is never retried; EBADF means the
    /// runtime closed something twice.
    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        let result = Glibc.close(fd)
        #else
        let result = Musl.close(fd)
        #endif
        if result != 0 { precondition(errno != EBADF, "close(\(fd)): descriptor not open (closed twice?)") }
    }

    private static func failure(_ error: Int32, _ name: StaticString) -> OSError {
        precondition(error != EFAULT,
                     "\(name) failed with \(String(cString: strerror(error))): a bug in AsyncIO")
        return OSError(errno: error, operation: "\(name)")
    }
}
