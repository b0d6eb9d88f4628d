import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// `getaddrinfo` and `getnameinfo` on the loop, checked against /etc/hosts
/// and the C library itself.
@Suite(.suiteLimit) struct DNSTests {
    /// The addresses /etc/hosts gives `name`.
    private func hostsFileAddresses(of name: String) -> Set<String> {
        guard let file = fopen("/etc/hosts", "r") else { return [] }
        defer { fclose(file) }
        var addresses = Set<String>()
        var buffer = [UInt8](repeating: 0, count: 1024)
        while fgets(&buffer, 1024, file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
            let fields = line.split { $0 == " " || $0 == "\t" || $0 == "\n" }.prefix { !$0.hasPrefix("#") }
            if fields.count > 1, fields.dropFirst().contains(Substring(name)) { addresses.insert(String(fields[0])) }
        }
        return addresses
    }

    @Test func localhostResolvesToEveryAddressTheHostsFileGives() throws {
        let resolved = try runLoop { loop -> Set<String> in
            let infos = try await loop.getaddrinfo("localhost", 443, type: Int32(SOCK_STREAM.rawValue))
            return Set(infos.map(\.address.host))
        }
        let expected = hostsFileAddresses(of: "localhost")
        try #require(!expected.isEmpty, "/etc/hosts names no localhost")
        #expect(resolved == expected)
    }

    @Test func numericHostsGiveEveryFieldWithoutTheExecutor() throws {
        let (v4, v6, executorMade) = try runLoop { loop -> ([AddressInfo], [AddressInfo], Bool) in
            let v4 = try await loop.getaddrinfo("127.0.0.1", 8080)
            let v6 = try await loop.getaddrinfo("::1", 443, type: Int32(SOCK_STREAM.rawValue), flags: AI_CANONNAME)
            return (v4, v6, loop.executors.executor != nil)
        }
        // As Python's socket.getaddrinfo('127.0.0.1', 8080): one per socket type.
        #expect(v4.map { "\($0.family) \($0.type) \($0.proto) '\($0.canonicalName)' \($0.address)" } == [
            "\(AF_INET) \(SOCK_STREAM.rawValue) \(IPPROTO_TCP) '' ('127.0.0.1', 8080)",
            "\(AF_INET) \(SOCK_DGRAM.rawValue) \(IPPROTO_UDP) '' ('127.0.0.1', 8080)",
            "\(AF_INET) \(SOCK_RAW.rawValue) 0 '' ('127.0.0.1', 8080)",
        ])
        #expect(v6.count == 1)
        #expect(v6.first?.family == AF_INET6)
        #expect(v6.first?.address.host == "::1")
        #expect(v6.first?.address.port == 443)
        #expect(v6.first?.canonicalName == "::1")
        #expect(!executorMade)
    }

    @Test func aNameThatDoesNotResolveIsAGAIErrorWithPythonsText() throws {
        let error = try runLoop { loop -> GAIError? in
            do {
                _ = try await loop.getaddrinfo("no-such-host.invalid", 80)
                return nil
            } catch let error as GAIError {
                return error
            }
        }
        let gaiError = try #require(error)
        #expect([EAI_NONAME, EAI_AGAIN].contains(gaiError.code))
        #expect("\(gaiError)" == "[Errno \(gaiError.code)] \(gaiError.message)")
        if gaiError.code == EAI_NONAME { #expect("\(gaiError)" == "[Errno -2] Name or service not known") }
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func getnameinfoSaysWhatTheCLibrarySays(_ ip: String) throws {
        let address = try #require(SocketAddress(ip: ip, port: 443))
        let names = try runLoop { loop in try await loop.getnameinfo(address) }
        var host = [CChar](repeating: 0, count: 1025), service = [CChar](repeating: 0, count: 32)
        let status = withUnsafePointer(to: address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, address.length, &host, 1025, &service, 32, 0)
            }
        }
        try #require(status == 0)
        #expect(names.host == String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        #expect(names.service == "https")
    }

    @Test func aLiteralThatIsNotAnAddressIsNil() {
        #expect(SocketAddress(ip: "localhost", port: 1) == nil)
        #expect(SocketAddress(ip: "300.1.1.1", port: 1) == nil)
        #expect(SocketAddress(ip: "10.1.2.3", port: 80)?.description == "('10.1.2.3', 80)")
    }
}
