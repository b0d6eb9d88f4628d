#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

extension EventLoop {
    /// Creates a datagram (UDP) endpoint and returns its transport with the
    /// protocol from `protocolFactory` once `connectionMade` has run
    /// (asyncio's `create_datagram_endpoint`).
    ///
    /// `localAddr` is bound to (port 0 picks a free port; `sockname` tells
    /// which). With `remoteAddr`, the socket is connected to it: every
    /// datagram goes there, only its datagrams are received, and an ICMP
    /// port unreachable reaches `errorReceived` as `ECONNREFUSED`. Host names
    /// are resolved with `getaddrinfo` (`SOCK_DGRAM`, with `family`, `proto`
    /// and `flags`); the first family both addresses share is used, the next
    /// tried if making its socket fails. With neither address, `family`
    /// says what socket to make. `reusePort` sets `SO_REUSEPORT`;
    /// `allowBroadcast` sets `SO_BROADCAST` and, as in asyncio, leaves the
    /// socket unconnected, sending each datagram to `remoteAddr`.
    ///
    /// Throws `GAIError` for a name that does not resolve, `OSError` when
    /// the socket cannot be made, bound or connected (the first family's
    /// error), `DatagramError` for arguments that name no usable address.
    @LoopActor
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ protocolFactory: @LoopActor () -> P,
        localAddr: (host: String, port: Int)? = nil, remoteAddr: (host: String, port: Int)? = nil,
        family: Int32 = 0, proto: Int32 = 0, flags: Int32 = 0,
        reusePort: Bool = false, allowBroadcast: Bool = false
    ) async throws -> (transport: any DatagramTransport, protocol: P) {
        let candidates = try await datagramCandidates(localAddr: localAddr, remoteAddr: remoteAddr,
                                                      family: family, proto: proto, flags: flags)
        var errors: [any Error] = []
        for candidate in candidates {
            var fd: Int32 = -1
            do {
                fd = try Socket.open(family: candidate.family, type: Int32(SOCK_DGRAM.rawValue), proto: candidate.proto)
                if reusePort { Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT) }
                if allowBroadcast { Socket.setOption(fd, level: SOL_SOCKET, name: SO_BROADCAST) }
                if let local = candidate.local { try Socket.bind(fd, to: local) }
                if let remote = candidate.remote, !allowBroadcast { try await sockConnect(fd, remote) }
            } catch {
                if fd >= 0 { SystemCall.close(fd) }
                guard error is OSError else { throw error }
                errors.append(error)
                continue
            }
            return try await attachDatagram(fd: fd, protocolFactory(), remoteAddress: candidate.remote)
        }
        throw errors.first ?? DatagramError.noAddressInformation
    }

    /// Creates a datagram endpoint over `sock`, a datagram socket made
    /// elsewhere (asyncio's `sock=`), which the transport now owns and
    /// makes non-blocking. A connected socket sends to its peer.
    @LoopActor
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ protocolFactory: @LoopActor () -> P, sock: Int32
    ) async throws -> (transport: any DatagramTransport, protocol: P) {
        guard Socket.type(sock) == Int32(SOCK_DGRAM.rawValue) else { throw DatagramError.notDatagramSocket(fd: sock) }
        try Socket.setNonBlocking(sock)
        return try await attachDatagram(fd: sock, protocolFactory(), remoteAddress: nil)
    }

    /// Creates a Unix-domain datagram endpoint (asyncio's
    /// `create_datagram_endpoint` with `family=AF_UNIX`): bound to
    /// `localPath` if given, which replaces a socket file left there (as
    /// asyncio removes a stale one), and connected to `remotePath` if given.
    /// A peer that did not bind sends from an empty address (`""`): it can
    /// be answered only through a connection it made.
    @LoopActor
    public func createUnixDatagramEndpoint<P: DatagramProtocol>(
        _ protocolFactory: @LoopActor () -> P, localPath: String? = nil, remotePath: String? = nil
    ) async throws -> (transport: any DatagramTransport, protocol: P) {
        let local = try localPath.map { path throws(OSError) in try SocketAddress(unixPath: path) }
        let remote = try remotePath.map { path throws(OSError) in try SocketAddress(unixPath: path) }
        let fd = try Socket.open(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        do {
            if let localPath, let local {
                removeStaleSocket(at: localPath)
                try Socket.bind(fd, to: local)
            }
            if let remote { try await sockConnect(fd, remote) }
        } catch {
            SystemCall.close(fd)
            throw error
        }
        return try await attachDatagram(fd: fd, protocolFactory(), remoteAddress: remote)
    }

    /// Removes `path` if it is a socket: what a datagram endpoint bound there
    /// before left behind. Anything else stays, for `bind` to report.
    private nonisolated func removeStaleSocket(at path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        unlink(path)
    }

    /// The (family, protocol) pairs to try, each with its local and remote
    /// address, in the order `getaddrinfo` gave them: only pairs that have
    /// an address for each of `localAddr` and `remoteAddr` given.
    @LoopActor
    private func datagramCandidates(
        localAddr: (host: String, port: Int)?, remoteAddr: (host: String, port: Int)?,
        family: Int32, proto: Int32, flags: Int32
    ) async throws -> [DatagramCandidate] {
        guard localAddr != nil || remoteAddr != nil else {
            guard family != 0 else { throw DatagramError.unexpectedAddressFamily }
            return [DatagramCandidate(family: family, proto: proto)]
        }
        var candidates: [DatagramCandidate] = []
        for (isLocal, address) in [(true, localAddr), (false, remoteAddr)] {
            guard let address else { continue }
            let infos = try await getaddrinfo(address.host, address.port, family: family,
                                              type: Int32(SOCK_DGRAM.rawValue), proto: proto, flags: flags)
            guard !infos.isEmpty else { throw DatagramError.noAddressInformation }
            for info in infos {
                var index = candidates.firstIndex { $0.family == info.family && $0.proto == info.proto }
                if index == nil {
                    candidates.append(DatagramCandidate(family: info.family, proto: info.proto))
                    index = candidates.count - 1
                }
                // The first address of each pair is the one used, as asyncio keeps it.
                if isLocal {
                    if candidates[index!].local == nil { candidates[index!].local = info.address }
                } else if candidates[index!].remote == nil {
                    candidates[index!].remote = info.address
                }
            }
        }
        candidates.removeAll { (localAddr != nil && $0.local == nil) || (remoteAddr != nil && $0.remote == nil) }
        guard !candidates.isEmpty else { throw DatagramError.noAddressInformation }
        return candidates
    }

    @LoopActor
    private func attachDatagram<P: DatagramProtocol>(fd: Int32, _ protocolObject: P, remoteAddress: SocketAddress?)
        async throws -> (transport: any DatagramTransport, protocol: P)
    {
        let waiter = Future<Void>(loop: self)
        let transport = SocketDatagramTransport(loop: self, fd: fd, protocol: protocolObject,
                                                remoteAddress: remoteAddress, waiter: waiter)
        do {
            try await waiter.value
        } catch {
            transport.close()
            throw error
        }
        return (transport, protocolObject)
    }
}

/// One way to make the endpoint's socket: a family and protocol, with the
/// addresses to bind and connect to.
private struct DatagramCandidate {
    let family: Int32
    let proto: Int32
    var local: SocketAddress?
    var remote: SocketAddress?
}
