import ArgumentParser
import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

struct DNSCommand: TopicCommand {
    static let topic = Topic(
        name: "dns",
        section: "Interacting with Domain Name Services",
        abstract: "Name lookups without blocking the loop: getaddrinfo and getnameinfo.",
        normalize: [.resolvedNames],
        examples: [
            Example(name: "getaddrinfo", summary: "Host names to TCP addresses.",
                    mirrors: "asyncio_getaddrinfo.py: loop.getaddrinfo(proto=IPPROTO_TCP)",
                    run: { try lookUpAddresses(defaultHosts) }),
            Example(name: "getnameinfo", summary: "Addresses and ports to host and service names.",
                    mirrors: "asyncio_getnameinfo.py: loop.getnameinfo", run: { try lookUpNames(defaultAddresses) }),
        ]
    )
    static let configuration = makeConfiguration()

    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
    @Argument(help: "Host names (getaddrinfo) or IP addresses (getnameinfo) to look up instead of the defaults.")
    var targets: [String] = []

    func validate() throws {
        if !targets.isEmpty, example == nil {
            throw ValidationError("targets need an example: getaddrinfo or getnameinfo")
        }
    }

    func run() throws {
        guard !targets.isEmpty, let example else {
            try runTopic(Self.topic, example: example, learner)
            return
        }
        try learner.instrumenting {
            let allResolved = example == "getaddrinfo" ? try lookUpAddresses(targets) : try lookUpNames(targets)
            if !allResolved { throw ExitCode.failure }
        }
    }
}

/// This machine has no network: names that resolve without one.
private let defaultHosts = ["localhost", "127.0.0.1", "::1"]
private let defaultAddresses = ["127.0.0.1", "::1"]

// MARK: getaddrinfo

/// Prints each host's TCP addresses for the https port, as the chapter
/// does; a name that does not resolve prints Python's `socket.gaierror`
/// line and the lookups go on. Returns whether every one resolved.
@discardableResult
private func lookUpAddresses(_ hosts: [String]) throws -> Bool {
    try runUntilComplete { loop -> Bool in
        var allResolved = true
        for host in hosts {
            do {
                let infos = try await loop.getaddrinfo(host, service: "https", proto: Int32(IPPROTO_TCP))
                for info in infos {
                    print("\(host.padding(toWidth: 20)): \(info.address.host)")
                }
            } catch let error as GAIError {
                printError("asyncio-demo: \(host): socket.gaierror: \(error)")
                allResolved = false
            }
        }
        return allResolved
    }
}

// MARK: getnameinfo

/// Prints the host and service names of each address with port 443.
@discardableResult
private func lookUpNames(_ addresses: [String]) throws -> Bool {
    try runUntilComplete { loop -> Bool in
        var allResolved = true
        for text in addresses {
            guard let address = SocketAddress(ip: text, port: 443) else {
                printError("asyncio-demo: \(text): not an IPv4 or IPv6 address")
                allResolved = false
                continue
            }
            do {
                let (host, service) = try await loop.getnameinfo(address)
                print("\(text.padding(toWidth: 15)): \(host) \(service)")
            } catch let error as GAIError {
                printError("asyncio-demo: \(text): socket.gaierror: \(error)")
                allResolved = false
            }
        }
        return allResolved
    }
}

extension String {
    /// Python's `'{:N}'` for strings: padded on the right, never cut.
    func padding(toWidth width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
