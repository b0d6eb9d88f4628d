#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import COpenSSL

/// Settings and certificates for TLS connections (Python's
/// `ssl.SSLContext`), over one OpenSSL `SSL_CTX`. Configure it, then pass
/// it as `ssl:` to `createServer`, `createConnection`, `startServer` or
/// `openConnection`; one context serves any number of connections.
public final class SSLContext: @unchecked Sendable {
    // @unchecked Sendable: every read and write of the settings and of the
    // SSL_CTX goes through `state`'s lock; OpenSSL makes SSL_new on a
    // configured SSL_CTX safe from any thread.

    /// Which side of a connection the context is for (Python's
    /// `PROTOCOL_TLS_SERVER` / `PROTOCOL_TLS_CLIENT`). Python's
    /// `create_default_context(Purpose.SERVER_AUTH)` is `makeDefault(purpose: .client)`.
    public enum Purpose: Sendable { case server, client }

    /// How the peer's certificate is checked (Python's `CERT_NONE`,
    /// `CERT_OPTIONAL`, `CERT_REQUIRED`).
    public enum VerifyMode: Sendable { case none, optional, required }

    /// A protocol version bound (Python's `ssl.TLSVersion`).
    public enum TLSVersion: Sendable, Comparable {
        case tlsv1_2, tlsv1_3
        var openSSL: Int32 { self == .tlsv1_2 ? TLS1_2_VERSION : TLS1_3_VERSION }
    }

    public let purpose: Purpose
    private let context: OpaquePointer
    private struct Settings {
        var verifyMode: VerifyMode
        var checkHostname: Bool
        /// The wire format of ALPN: each name prefixed by its length.
        var alpn: [UInt8] = []
        var sniCallback: SNICallback?
    }

    /// What a server runs when a client names the server it wants (SNI):
    /// the connection, the name (nil when the client sent none) and this
    /// context. It may switch `connection.context` to serve another
    /// certificate; throwing ends the handshake with a handshake_failure
    /// alert. Runs on the loop's thread, inside the handshake. The context
    /// holds its callback: one that captures the context is a cycle.
    public typealias SNICallback = @Sendable (_ connection: SSLObject, _ serverName: String?, _ context: SSLContext) throws -> Void
    private let state: Locked<Settings>

    /// A context with Python's defaults for `purpose`: a client verifies
    /// the server's certificate and host name (against nothing until
    /// `loadVerifyLocations` or `loadDefaultCerts`); a server asks for no
    /// client certificate. TLS 1.2 is the oldest version allowed.
    public init(purpose: Purpose) throws(SSLError) {
        guard let context = SSL_CTX_new(purpose == .client ? TLS_client_method() : TLS_server_method()) else {
            throw SSLError.fromQueue("cannot create an SSL context")
        }
        self.purpose = purpose
        self.context = context
        state = Locked(Settings(verifyMode: purpose == .client ? .required : .none, checkHostname: purpose == .client))
        _ = copenssl_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        // Python's defaults: no compression, no renegotiation initiated by a client.
        _ = copenssl_SSL_CTX_set_options(context, copenssl_default_options())
        // Python's too: an idle connection gives its record buffers back.
        _ = copenssl_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        applyVerifyMode(state.withLock { $0.verifyMode })
        if purpose == .server {
            installALPNSelection()
            installServerNameCallback()
        }
    }

    /// `ssl.create_default_context`: for a client, also trusts the
    /// system's certificate authorities.
    public static func makeDefault(purpose: Purpose) throws(SSLError) -> SSLContext {
        let context = try SSLContext(purpose: purpose)
        if purpose == .client { try context.loadDefaultCerts() }
        return context
    }

    deinit { SSL_CTX_free(context) }

    // MARK: Verification

    /// How the peer's certificate is checked. Set it with `setVerifyMode`,
    /// which can refuse.
    public var verifyMode: VerifyMode { state.withLock { $0.verifyMode } }

    /// Sets `verifyMode`. `.none` while `checkHostname` is on is refused,
    /// as Python refuses it: a host name cannot be checked without a
    /// verified certificate, so turn `checkHostname` off first.
    public func setVerifyMode(_ mode: VerifyMode) throws(ValueError) {
        let accepted = state.withLock { settings -> Bool in
            guard !(mode == .none && settings.checkHostname) else { return false }
            settings.verifyMode = mode
            return true
        }
        guard accepted else {
            throw ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        }
        applyVerifyMode(mode)
    }

    /// Whether a client checks the certificate names the host it connected
    /// to. Turning it on raises `verifyMode` from `.none` to `.required`,
    /// as Python does.
    public var checkHostname: Bool {
        get { state.withLock { $0.checkHostname } }
        set {
            let mode = state.withLock { settings -> VerifyMode in
                settings.checkHostname = newValue
                if newValue, settings.verifyMode == .none { settings.verifyMode = .required }
                return settings.verifyMode
            }
            applyVerifyMode(mode)
        }
    }

    private func applyVerifyMode(_ mode: VerifyMode) {
        let flags: Int32 = switch mode {
        case .none: SSL_VERIFY_NONE
        case .optional: SSL_VERIFY_PEER
        case .required: purpose == .server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        }
        state.withLock { _ in SSL_CTX_set_verify(context, flags, nil) }
    }

    /// Trusts the system's certificate authorities (Python's `load_default_certs`).
    public func loadDefaultCerts() throws(SSLError) {
        let loaded = state.withLock { _ in SSL_CTX_set_default_verify_paths(context) == 1 }
        guard loaded else { throw SSLError.fromQueue("cannot load the default certificate authorities") }
    }

    /// Trusts the certificates in `caFile`, the hashed directory `caPath`,
    /// and the PEM text `caData` (Python's `load_verify_locations`).
    public func loadVerifyLocations(caFile: String? = nil, caPath: String? = nil, caData: [UInt8]? = nil) throws {
        precondition(caFile != nil || caPath != nil || caData != nil, "cafile, capath and cadata cannot be all omitted")
        if let caFile {
            // Read here, so a missing file is Python's FileNotFoundError with its name.
            try addTrusted(pem: readWholeFile(caFile))
        }
        if let caPath {
            let loaded = state.withLock { _ in SSL_CTX_load_verify_locations(context, nil, caPath) == 1 }
            guard loaded else { throw SSLError.fromQueue("cannot load certificates from \(caPath)") }
        }
        if let caData { try addTrusted(pem: caData) }
    }

    private func addTrusted(pem: [UInt8]) throws(SSLError) {
        let certificates = try Certificate.readAll(pem: pem)
        guard !certificates.isEmpty else {
            throw SSLError(library: "X509", reason: "NO_CERTIFICATE_OR_CRL_FOUND", message: "no certificate or crl found")
        }
        state.withLock { _ in
            let store = SSL_CTX_get_cert_store(context)
            // The store takes its own reference; `certificates` frees ours.
            for certificate in certificates { X509_STORE_add_cert(store, certificate.pointer) }
            ERR_clear_error()  // a certificate already in the store is not an error
        }
    }

    // MARK: Own certificate

    /// Uses the certificate chain in `certFile` and the private key in
    /// `keyFile` (or in `certFile` when nil), decrypted with `password`
    /// (Python's `load_cert_chain`).
    public func loadCertChain(certFile: String, keyFile: String? = nil, password: String? = nil) throws {
        let chain = try readWholeFile(certFile)
        let key = try keyFile.map { path throws(OSError) in try readWholeFile(path) } ?? chain
        try loadCertChain(certData: chain, keyData: key, password: password)
    }

    /// `loadCertChain` from PEM text in memory.
    public func loadCertChain(certData: [UInt8], keyData: [UInt8], password: String? = nil) throws(SSLError) {
        let chain = try Certificate.readAll(pem: certData)
        guard let leaf = chain.first else {
            throw SSLError(library: "SSL", reason: "NO_CERTIFICATE_OR_CRL_FOUND", message: "no certificate or crl found")
        }
        let key = try PrivateKey(pem: keyData, password: password)
        let failure = state.withLock { _ -> SSLError? in
            guard SSL_CTX_use_certificate(context, leaf.pointer) == 1 else { return .fromQueue("cannot use the certificate") }
            _ = copenssl_SSL_CTX_clear_chain_certs(context)
            for certificate in chain.dropFirst() {
                // add1 takes its own reference, so ours is still freed once.
                guard copenssl_SSL_CTX_add1_chain_cert(context, certificate.pointer) == 1 else {
                    return .fromQueue("cannot add a chain certificate")
                }
            }
            guard SSL_CTX_use_PrivateKey(context, key.pointer) == 1 else { return .fromQueue("cannot use the private key") }
            guard SSL_CTX_check_private_key(context) == 1 else { return .fromQueue("key values mismatch") }
            return nil
        }
        if let failure { throw failure }
    }

    // MARK: Protocol

    /// The oldest version allowed (Python's `minimum_version`).
    public var minimumVersion: TLSVersion {
        get { state.withLock { _ in copenssl_SSL_CTX_get_min_proto_version(context) == TLS1_3_VERSION ? .tlsv1_3 : .tlsv1_2 } }
        set { state.withLock { _ in _ = copenssl_SSL_CTX_set_min_proto_version(context, newValue.openSSL) } }
    }

    /// The newest version allowed (Python's `maximum_version`).
    public var maximumVersion: TLSVersion {
        get { state.withLock { _ in copenssl_SSL_CTX_get_max_proto_version(context) == TLS1_2_VERSION ? .tlsv1_2 : .tlsv1_3 } }
        set { state.withLock { _ in _ = copenssl_SSL_CTX_set_max_proto_version(context, newValue.openSSL) } }
    }

    /// Limits the TLS 1.2 cipher suites to OpenSSL's cipher list `ciphers`
    /// (Python's `set_ciphers`; TLS 1.3's suites are not affected, as in Python).
    public func setCiphers(_ ciphers: String) throws(SSLError) {
        let accepted = state.withLock { _ in SSL_CTX_set_cipher_list(context, ciphers) == 1 }
        guard accepted else {
            ERR_clear_error()
            throw SSLError(library: "SSL", reason: "NO_CIPHER_MATCH", message: "No cipher can be selected.")
        }
    }

    /// The application protocols to offer (a client) or accept (a server),
    /// in order of preference (Python's `set_alpn_protocols`).
    public func setALPNProtocols(_ protocols: [String]) {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            precondition((1...255).contains(bytes.count), "ALPN protocol names are 1 to 255 bytes long")
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        state.withLock { settings in
            settings.alpn = wire
            if purpose == .client {
                _ = wire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(context, $0.baseAddress, UInt32($0.count)) }
            }
        }
    }

    /// A server picks the first of its protocols the client offers; none in
    /// common goes on without ALPN, as Python's server does.
    private func installALPNSelection() {
        // The context outlives its SSL_CTX's callbacks: it frees the SSL_CTX.
        let me = Unmanaged.passUnretained(self).toOpaque()
        SSL_CTX_set_alpn_select_cb(context, { _, out, outLength, offered, offeredLength, argument in
            guard let argument, let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
            let context = Unmanaged<SSLContext>.fromOpaque(argument).takeUnretainedValue()
            return context.selectALPN(out, outLength, offered, offeredLength)
        }, me)
    }

    private func selectALPN(_ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>, _ outLength: UnsafeMutablePointer<UInt8>,
                            _ offered: UnsafePointer<UInt8>, _ offeredLength: UInt32) -> Int32 {
        let ours = state.withLock { $0.alpn }
        guard !ours.isEmpty else { return SSL_TLSEXT_ERR_NOACK }
        // The answer must point into `offered`, which outlives the call.
        let theirs = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
        var index = 0
        while index < ours.count {
            let length = Int(ours[index])
            let name = ours[(index + 1)..<(index + 1 + length)]
            var position = 0
            while position < theirs.count {
                let theirLength = Int(theirs[position])
                if position + 1 + theirLength <= theirs.count,
                   theirs[(position + 1)..<(position + 1 + theirLength)].elementsEqual(name) {
                    out.pointee = offered + position + 1
                    outLength.pointee = UInt8(theirLength)
                    return SSL_TLSEXT_ERR_OK
                }
                position += 1 + theirLength
            }
            index += 1 + length
        }
        return SSL_TLSEXT_ERR_NOACK
    }

    // MARK: Server names

    /// Python's `sni_callback` (the shape of its `set_servername_callback`):
    /// see `SNICallback`. Only a server context calls it.
    public var sniCallback: SNICallback? {
        get { state.withLock { $0.sniCallback } }
        set { state.withLock { $0.sniCallback = newValue } }
    }

    private func installServerNameCallback() {
        // As for ALPN: the context outlives its SSL_CTX's callbacks.
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = copenssl_SSL_CTX_set_tlsext_servername_arg(context, me)
        _ = copenssl_SSL_CTX_set_tlsext_servername_callback(context) { ssl, alert, argument in
            guard let ssl, let argument else { return SSL_TLSEXT_ERR_OK }
            let context = Unmanaged<SSLContext>.fromOpaque(argument).takeUnretainedValue()
            return context.serverNameReceived(ssl, alert)
        }
    }

    private func serverNameReceived(_ ssl: OpaquePointer, _ alert: UnsafeMutablePointer<Int32>?) -> Int32 {
        guard let callback = sniCallback, let session = TLSSession.owning(ssl) else { return SSL_TLSEXT_ERR_OK }
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        do {
            try callback(SSLObject(session), name, self)
            return SSL_TLSEXT_ERR_OK
        } catch {
            alert?.pointee = SSL_AD_HANDSHAKE_FAILURE
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
    }

    /// Makes `ssl` use this context's certificate and settings from now on
    /// (an SNI callback switching contexts).
    func adopt(_ ssl: OpaquePointer) {
        state.withLock { _ in _ = SSL_set_SSL_CTX(ssl, context) }
    }

    // MARK: Connections

    /// A new OpenSSL connection object for one side of one connection.
    func makeSSL() throws(SSLError) -> OpaquePointer {
        guard let ssl = state.withLock({ _ in SSL_new(context) }) else { throw SSLError.fromQueue("cannot create an SSL connection") }
        return ssl
    }
}

/// A whole file's bytes, or Python's `OSError` naming the file.
func readWholeFile(_ path: String) throws(OSError) -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw OSError(errno: errno, operation: "open", filename: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[..<count]
        if count < chunk.count {
            if ferror(file) != 0 { throw OSError(errno: errno, operation: "read", filename: path) }
            return bytes
        }
    }
}
