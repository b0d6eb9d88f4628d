#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

#if canImport(Glibc)
private let systemRead = Glibc.read
private let systemWrite = Glibc.write
#else
private let systemRead = Musl.read
private let systemWrite = Musl.write
#endif

/// System calls on pipes, through `SystemCall` like every other.
enum Pipe {
    /// A new pipe, close-on-exec at both ends and blocking: the ends given to
    /// a child must block as programs expect; the parent makes its own end
    /// non-blocking with `setNonBlocking`.
    static func open() throws(OSError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try SystemCall.run("pipe2") { pipe2(&fds, O_CLOEXEC) }
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) throws(OSError) {
        let flags = try SystemCall.run("fcntl") { fcntl(fd, F_GETFL) }
        _ = try SystemCall.run("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// The capacity a pipe carrying bulk data is grown to: Linux's default
    /// of 64 KiB costs a system call and a wake-up of each side per 64 KiB,
    /// and 1 MiB is the most an unprivileged process may ask for.
    static let bulkCapacity: Int32 = 1 << 20

    /// Grows the pipe's kernel buffer to `bulkCapacity`; a refusal (over the
    /// user's pipe-memory limit) leaves it as it was, which still works.
    static func grow(_ fd: Int32) {
        _ = clinux_set_pipe_size(fd, bulkCapacity)
    }

    @inline(__always)
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try SystemCall.nonBlocking("read") { systemRead(fd, buffer.baseAddress, buffer.count) }
    }

    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(OSError) -> IOResult<Int> {
        try withoutSIGPIPE { () throws(OSError) in
            try SystemCall.nonBlocking("write") { systemWrite(fd, bytes.baseAddress, bytes.count) }
        }
    }

    static func writeMany(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>) throws(OSError) -> IOResult<Int> {
        try withoutSIGPIPE { () throws(OSError) in
            try SystemCall.nonBlocking("writev") { writev(fd, vectors.baseAddress, Int32(vectors.count)) }
        }
    }

    /// Runs a write with SIGPIPE blocked on this thread, so a reader that
    /// went away gives EPIPE instead of killing the process. Pipes have no
    /// `MSG_NOSIGNAL`, and a library must not change the process's signal
    /// dispositions. The SIGPIPE the failed write raised is left pending;
    /// it is taken back before unblocking, unless it was blocked already
    /// (then it may not be ours to take).
    private static func withoutSIGPIPE(_ write: () throws(OSError) -> IOResult<Int>) throws(OSError) -> IOResult<Int> {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        do {
            return try write()
        } catch {
            if error.errno == EPIPE, sigismember(&previous, SIGPIPE) == 0 {
                var pending = sigset_t()
                sigpending(&pending)
                if sigismember(&pending, SIGPIPE) == 1 {
                    var noWait = timespec(tv_sec: 0, tv_nsec: 0)
                    _ = sigtimedwait(&pipeOnly, nil, &noWait)
                }
            }
            throw error
        }
    }
}
