#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// A name that could not be resolved (Python's `socket.gaierror`); prints
/// as Python does: `[Errno -2] Name or service not known`.
public struct GAIError: Error, CustomStringConvertible, Equatable {
    /// The `EAI_*` code (negative on Linux).
    public var code: Int32
    /// What was looked up.
    public var host: String

    public var message: String { String(cString: gai_strerror(code)) }
    public var description: String { "[Errno \(code)] \(message)" }
}

/// One result of `getaddrinfo`, with the five fields Python's tuple has.
public struct AddressInfo: Sendable, Equatable {
    public var family: Int32
    public var type: Int32
    public var proto: Int32
    /// Set only when `AI_CANONNAME` is asked for; empty otherwise, as in Python.
    public var canonicalName: String
    public var address: SocketAddress
}

extension EventLoop {
    /// Resolves `host` and `port` (asyncio's `loop.getaddrinfo`), on the
    /// default executor since the C library's lookup blocks; a numeric
    /// host and port are converted at once, without it. A nil host with
    /// `AI_PASSIVE` means every local address. Throws `GAIError`.
    @LoopActor
    public func getaddrinfo(_ host: String?, _ port: Int?, family: Int32 = AF_UNSPEC, type: Int32 = 0,
                            proto: Int32 = 0, flags: Int32 = 0) async throws -> [AddressInfo] {
        try await getaddrinfo(host, service: port.map(String.init), family: family, type: type,
                              proto: proto, flags: flags)
    }

    /// `getaddrinfo` with a service name (`"https"`) or number as text.
    @LoopActor
    public func getaddrinfo(_ host: String?, service: String?, family: Int32 = AF_UNSPEC, type: Int32 = 0,
                            proto: Int32 = 0, flags: Int32 = 0) async throws -> [AddressInfo] {
        let query = Lookup(host: host, service: service, family: family, type: type, proto: proto, flags: flags)
        if query.isNumeric { return try query.run(extraFlags: AI_NUMERICHOST | AI_NUMERICSERV) }
        return try await runInExecutor { try query.run() }.value
    }

    /// The host name and service name for `address` (asyncio's
    /// `loop.getnameinfo`), on the default executor; where a name is not
    /// known, the numeric form, as the C library gives it. Throws `GAIError`.
    @LoopActor
    public func getnameinfo(_ address: SocketAddress, flags: Int32 = 0) async throws -> (host: String, service: String) {
        try await runInExecutor { try Self.nameInfo(address, flags: flags) }.value
    }

    /// The stream-socket addresses of `host`, each once, for `createServer`
    /// (`passive`) and `createConnection`.
    @LoopActor
    func resolveStream(_ host: String?, _ port: Int, passive: Bool = false) async throws -> [AddressInfo] {
        let infos = try await getaddrinfo(host, port, type: Int32(SOCK_STREAM.rawValue),
                                          flags: passive ? AI_PASSIVE : 0)
        var seen = Set<SocketAddress>()
        return infos.filter { seen.insert($0.address).inserted }
    }

    private static func nameInfo(_ address: SocketAddress, flags: Int32) throws -> (host: String, service: String) {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.getnameinfo($0, address.length, &host, socklen_t(host.count), &service, socklen_t(service.count), flags)
            }
        }
        guard status == 0 else { throw GAIError(code: status, host: address.host) }
        return (string(host), string(service))
    }
}

/// One `getaddrinfo` call's arguments.
private struct Lookup: Sendable {
    let host: String?
    let service: String?
    let family, type, proto, flags: Int32

    /// A literal address (or none) and a numeric port: no lookup needed.
    var isNumeric: Bool {
        (host.map(SocketAddress.isNumericHost) ?? true) && (service.map { Int($0) != nil } ?? true)
    }

    func run(extraFlags: Int32 = 0) throws -> [AddressInfo] {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = type
        hints.ai_protocol = proto
        hints.ai_flags = flags | extraFlags
        var list: UnsafeMutablePointer<addrinfo>?
        let status = Glibc.getaddrinfo(host, service, &hints, &list)
        guard status == 0 else { throw GAIError(code: status, host: host ?? "") }
        defer { freeaddrinfo(list) }
        var infos: [AddressInfo] = []
        var node = list
        while let info = node?.pointee {
            if let raw = info.ai_addr {
                infos.append(AddressInfo(family: info.ai_family, type: info.ai_socktype, proto: info.ai_protocol,
                                         canonicalName: info.ai_canonname.map { String(cString: $0) } ?? "",
                                         address: SocketAddress(raw, length: info.ai_addrlen)))
            }
            node = info.ai_next
        }
        return infos
    }
}

private func string(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
