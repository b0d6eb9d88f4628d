#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A socket address: IPv4, IPv6 or a Unix-domain path.
public struct SocketAddress: Sendable, CustomStringConvertible, Hashable {
    var storage: sockaddr_storage
    var length: socklen_t

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    init(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
        }
        self.init(storage: storage, length: length)
    }

    /// A Unix-domain socket address for `path`.
    public init(unixPath path: String) throws(OSError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw OSError(errno: ENAMETOOLONG, operation: "AF_UNIX path") }
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            withUnsafeBytes(of: &address) { target.copyMemory(from: $0) }
        }
        self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_un>.size))
    }

    /// The IPv4 or IPv6 address `ip` (a literal such as `127.0.0.1` or
    /// `::1`) with `port`; nil if `ip` is not a literal address.
    public init?(ip: String, port: Int) {
        var storage = sockaddr_storage()
        let length: socklen_t
        if withUnsafeMutableBytes(of: &storage, { raw in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            address.pointee.sin_family = sa_family_t(AF_INET)
            address.pointee.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            return inet_pton(AF_INET, ip, &address.pointee.sin_addr) == 1
        }) {
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if withUnsafeMutableBytes(of: &storage, { raw in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            address.pointee = sockaddr_in6()
            address.pointee.sin6_family = sa_family_t(AF_INET6)
            address.pointee.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            return inet_pton(AF_INET6, ip, &address.pointee.sin6_addr) == 1
        }) {
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            return nil
        }
        self.init(storage: storage, length: length)
    }

    /// Whether `host` is an IPv4 or IPv6 literal, which needs no lookup.
    static func isNumericHost(_ host: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    public var family: Int32 { Int32(storage.ss_family) }

    /// The numeric host (`127.0.0.1`, `::1`) or the Unix path.
    public var host: String {
        var copy = storage
        if family == AF_UNIX {
            return withUnsafeBytes(of: &copy) { raw in
                let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
                let path = raw[pathOffset...].prefix { $0 != 0 }
                return String(decoding: path, as: UTF8.self)
            }
        }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard status == 0 else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The port, or 0 for a Unix-domain address.
    public var port: Int {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            switch family {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: 0
            }
        }
    }

    /// Python's form: `('127.0.0.1', 8888)`, `('::1', 8888, 0, 0)`, or the path.
    public var description: String {
        switch family {
        case AF_INET: "(\(pythonRepr(host)), \(port))"
        case AF_INET6: "(\(pythonRepr(host)), \(port), 0, 0)"
        default: pythonRepr(host)
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The same endpoint: family, port and address (see `isSameEndpoint`).
    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.isSameEndpoint(as: b)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(port)
        var copy = storage
        withUnsafeBytes(of: &copy) { bytes in
            switch family {
            case AF_INET: hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[4..<8]))
            case AF_INET6: hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[8..<24]))
            default: hasher.combine(host)
            }
        }
    }
}

extension SocketAddress {
    /// The same address with another port.
    func withPort(_ port: Int) -> SocketAddress {
        var copy = storage
        withUnsafeMutablePointer(to: &copy) { pointer in
            switch family {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port = UInt16(port).bigEndian }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port = UInt16(port).bigEndian }
            default: break
            }
        }
        return SocketAddress(storage: copy, length: length)
    }
}

extension SocketAddress {
    /// Whether both name the same endpoint: family, port and address bytes
    /// (and the IPv6 scope), compared without converting them to text:
    /// cheap enough to check on every datagram sent.
    func isSameEndpoint(as other: SocketAddress) -> Bool {
        guard family == other.family else { return false }
        var a = storage
        var b = other.storage
        return withUnsafePointer(to: &a) { a in
            withUnsafePointer(to: &b) { b in
                switch family {
                case AF_INET:
                    a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a in
                        b.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { b in
                            a.pointee.sin_port == b.pointee.sin_port
                                && a.pointee.sin_addr.s_addr == b.pointee.sin_addr.s_addr
                        }
                    }
                case AF_INET6:
                    a.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { a in
                        b.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { b in
                            a.pointee.sin6_port == b.pointee.sin6_port
                                && a.pointee.sin6_scope_id == b.pointee.sin6_scope_id
                                && withUnsafeBytes(of: a.pointee.sin6_addr) { x in
                                    withUnsafeBytes(of: b.pointee.sin6_addr) { y in x.elementsEqual(y) }
                                }
                        }
                    }
                default:
                    host == other.host && port == other.port
                }
            }
        }
    }
}
