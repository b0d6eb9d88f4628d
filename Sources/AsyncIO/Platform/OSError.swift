#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call (Python's `OSError`): the errno, the call, and the
/// system's message for it, such as `[Errno 111] Connection refused (connect)`.
/// With a file name, it reads as Python prints `FileNotFoundError` and
/// `PermissionError`: `[Errno 2] No such file or directory: 'nosuchprogram'`.
public struct OSError: Error, CustomStringConvertible, Equatable {
    public var errno: Int32
    /// The system call or operation that failed.
    public var operation: String
    /// The file or program the call was about, if any.
    public var filename: String?

    public init(errno: Int32, operation: String, filename: String? = nil) {
        self.errno = errno
        self.operation = operation
        self.filename = filename
    }

    /// The system's text for the errno, like `strerror`.
    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        if let filename { return "[Errno \(errno)] \(message): '\(filename)'" }
        return "[Errno \(errno)] \(message) (\(operation))"
    }
}

extension OSError {
    /// Python's subclass of `OSError` for this errno (`ConnectionResetError`,
    /// `BrokenPipeError`…), so code can test what went wrong without
    /// importing the C library for its constants:
    /// `catch let error as OSError where error.kind == .connectionReset`.
    public enum Kind: Sendable, Equatable {
        case brokenPipe, connectionAborted, connectionRefused, connectionReset
        case fileExists, fileNotFound, interrupted, isADirectory, notADirectory
        case permission, processLookup, timeout, blockingIO, childProcess
        /// An errno Python gives no subclass of its own.
        case other
    }

    public var kind: Kind {
        switch errno {
        case EPIPE, ESHUTDOWN: .brokenPipe
        case ECONNABORTED: .connectionAborted
        case ECONNREFUSED: .connectionRefused
        case ECONNRESET: .connectionReset
        case EEXIST: .fileExists
        case ENOENT: .fileNotFound
        case EINTR: .interrupted
        case EISDIR: .isADirectory
        case ENOTDIR: .notADirectory
        case EACCES, EPERM: .permission
        case ESRCH: .processLookup
        case ETIMEDOUT: .timeout
        case EAGAIN, EALREADY, EINPROGRESS: .blockingIO
        case ECHILD: .childProcess
        default: .other
        }
    }
}
