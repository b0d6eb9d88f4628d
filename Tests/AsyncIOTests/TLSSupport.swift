import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport
import Logging

/// A fresh self-signed certificate for localhost, a server context using
/// it and a client context trusting only it, with host names checked.
struct TLSPair {
    let certificate: SelfSignedCertificate
    let server: SSLContext
    let client: SSLContext

    init(version: SSLContext.TLSVersion? = nil) throws {
        certificate = try SelfSignedCertificate.generate(hostName: "localhost")
        server = try SSLContext(purpose: .server)
        try server.loadCertChain(certData: certificate.certificatePEM, keyData: certificate.privateKeyPEM)
        client = try SSLContext.makeDefault(purpose: .client)
        try client.loadVerifyLocations(caData: certificate.certificatePEM)
        if let version {
            server.minimumVersion = version
            server.maximumVersion = version
        }
    }
}

/// Records what a plain (non-TLS) client sees.
@LoopActor
final class PlainProbe: StreamingProtocol {
    let lost: Future<Void>
    let greeting: [UInt8]
    init(loop: EventLoop, greeting: [UInt8]) {
        lost = Future(loop: loop)
        self.greeting = greeting
    }
    func connectionMade(_ transport: any Transport) { if !greeting.isEmpty { transport.write(greeting) } }
    func dataReceived(_ data: [UInt8]) {}
    func connectionLost(_ error: (any Error)?) { if !lost.isDone { try? lost.setResult(()) } }
}

/// A protocol over TLS that records its transport weakly-checkable and echoes.
@LoopActor
final class TLSEchoProtocol: StreamingProtocol {
    private var transport: (any Transport)?
    let watch: LifetimeWatch
    init(_ watch: LifetimeWatch) {
        self.watch = watch
        watch.watch("protocol", self)
    }
    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        watch.watch("transport", transport)
    }
    func dataReceived(_ data: [UInt8]) { transport?.write(data) }
}

func checksum(_ bytes: [UInt8]) -> UInt64 {
    // FNV-1a: order-sensitive, so a reordered or dropped chunk shows.
    bytes.withUnsafeBufferPointer { buffer in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in buffer { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let file = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/tls-tests-XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template)!)
}


/// A certificate a client presents, and the server context that trusts it.
struct ClientIdentity {
    let certificate: SelfSignedCertificate

    init(name: String = "client") throws {
        certificate = try SelfSignedCertificate.generate(hostName: name)
    }

    /// A client context of `pair` that also presents this certificate.
    func presented(by pair: TLSPair) throws -> SSLContext {
        let context = try SSLContext.makeDefault(purpose: .client)
        try context.loadVerifyLocations(caData: pair.certificate.certificatePEM)
        try context.loadCertChain(certData: certificate.certificatePEM, keyData: certificate.privateKeyPEM)
        return context
    }
}

