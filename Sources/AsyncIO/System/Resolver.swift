#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// A name that could not be resolved (Python's `socket.gaierror`).
public struct GAIError: Error, CustomStringConvertible, Equatable {
    public var code: Int32
    public var host: String

    public var message: String { String(cString: gai_strerror(code)) }
    public var description: String { "[Errno \(code)] \(message): \(pythonRepr(host))" }
}

/// One result of `getaddrinfo`.
public struct AddressInfo: Sendable {
    public var family: Int32
    public var type: Int32
    public var address: SocketAddress
}

extension EventLoop {
    /// Resolves `host` and `port` on a worker thread, since `getaddrinfo`
    /// blocks (asyncio's `loop.getaddrinfo`). A nil host means every local
    /// address, for a server.
    @LoopActor
    public func getaddrinfo(_ host: String?, _ port: Int, family: Int32 = AF_UNSPEC,
                            passive: Bool = false) async throws -> [AddressInfo] {
        if let numeric = try? Self.resolve(host, port, family: family, passive: passive, numericOnly: true) {
            return numeric
        }
        let future = Future<[AddressInfo]>(loop: self)
        runDetached { [self] in
            let outcome = Result { () throws -> [AddressInfo] in
                try Self.resolve(host, port, family: family, passive: passive, numericOnly: false)
            }
            callSoonThreadsafe {
                guard !future.isDone else { return }
                switch outcome {
                case .success(let infos): try future.setResult(infos)
                case .failure(let error): try future.setException(error)
                }
            }
        }
        return try await future.value
    }

    private static func resolve(_ host: String?, _ port: Int, family: Int32, passive: Bool,
                                numericOnly: Bool) throws -> [AddressInfo] {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = (passive ? AI_PASSIVE : 0) | (numericOnly ? AI_NUMERICHOST : 0) | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else { throw GAIError(code: status, host: host ?? "") }
        defer { freeaddrinfo(list) }
        var infos: [AddressInfo] = []
        var seen = Set<SocketAddress>()
        var node = list
        while let info = node?.pointee {
            if let raw = info.ai_addr {
                let address = SocketAddress(raw, length: info.ai_addrlen)
                if seen.insert(address).inserted {
                    infos.append(AddressInfo(family: info.ai_family, type: info.ai_socktype, address: address))
                }
            }
            node = info.ai_next
        }
        return infos
    }
}
