/// What `createDatagramEndpoint` and `sendto` refuse, each with a one-line
/// message naming the cause (asyncio raises `ValueError` for these).
public enum DatagramError: Error, Equatable, CustomStringConvertible {
    /// `sendto` named an address other than the endpoint's remote address.
    case invalidAddress(expected: SocketAddress)
    /// `sendto` without an address on an endpoint with no remote address.
    case addressRequired
    /// Neither `localAddr` nor `remoteAddr`, and no `family` to make the socket with.
    case unexpectedAddressFamily
    /// The local and remote addresses resolved to no family in common (or
    /// to nothing at all).
    case noAddressInformation
    /// The descriptor given as `sock` is not a datagram socket.
    case notDatagramSocket(fd: Int32)

    public var description: String {
        switch self {
        case .invalidAddress(let expected):
            "Invalid address: must be nil or \(expected), the endpoint's remote address"
        case .addressRequired:
            "sendto() needs an address: the endpoint was created without remoteAddr"
        case .unexpectedAddressFamily:
            "unexpected address family: give localAddr, remoteAddr or family"
        case .noAddressInformation:
            "can not get address information: localAddr and remoteAddr have no address family in common"
        case .notDatagramSocket(let fd):
            "A UDP Socket was expected, got fd=\(fd)"
        }
    }
}
