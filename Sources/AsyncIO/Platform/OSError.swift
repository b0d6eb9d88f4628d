#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call (Python's `OSError`): the errno, the call, and the
/// system's message for it, such as `[Errno 111] Connection refused (connect)`.
public struct OSError: Error, CustomStringConvertible, Equatable {
    public var errno: Int32
    /// The system call or operation that failed.
    public var operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// The system's text for the errno, like `strerror`.
    public var message: String { String(cString: strerror(errno)) }

    public var description: String { "[Errno \(errno)] \(message) (\(operation))" }
}
