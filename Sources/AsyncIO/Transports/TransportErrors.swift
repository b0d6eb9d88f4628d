#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Every address of a host refused the connection, in different ways.
public struct ConnectionErrors: Error, CustomStringConvertible {
    public var errors: [any Error]

    static func combine(_ errors: [any Error], host: String, port: Int) -> any Error {
        let texts = Set(errors.map { "\($0)" })
        if texts.count == 1, let first = errors.first { return first }
        if errors.isEmpty { return OSError(errno: EADDRNOTAVAIL, operation: "connect to \(host):\(port)") }
        return ConnectionErrors(errors: errors)
    }

    public var description: String {
        "Multiple exceptions: " + errors.map { "\($0)" }.joined(separator: ", ")
    }
}
