import COpenSSL

/// One side of one TLS connection in OpenSSL: an `SSL` reading ciphertext
/// from one memory BIO and writing it to another. It has no buffers of its
/// own: the layer reads ciphertext and decrypts into the loop's shared
/// receive buffer, each use finished before the next begins, so an idle
/// connection costs only OpenSSL's state. Not isolated, so its deinit
/// frees everything exactly once wherever the last reference goes
/// (`SSL_free` frees both BIOs).
final class TLSSession {
    let ssl: OpaquePointer
    /// Ciphertext from the peer, written here by the layer, read by OpenSSL.
    let incoming: OpaquePointer
    /// Ciphertext for the peer, written by OpenSSL, read by the layer.
    let outgoing: OpaquePointer

    let serverSide: Bool
    /// The name a client sends as SNI and checks the certificate against.
    let serverHostname: String?
    /// The context the connection uses now: the one it was made with,
    /// unless an SNI callback switched it. Held so that its SSL_CTX's
    /// callbacks, which point at it, stay valid.
    var context: SSLContext

    /// What the layer asks a buffered application's `getBuffer` for.
    static let bufferSize = 64 * 1024

    init(context: SSLContext, serverSide: Bool, serverHostname: String?) throws(SSLError) {
        let ssl = try context.makeSSL()
        self.ssl = ssl
        self.context = context
        self.serverSide = serverSide
        self.serverHostname = serverHostname
        incoming = BIO_new(BIO_s_mem())!
        outgoing = BIO_new(BIO_s_mem())!
        // An empty incoming BIO means "wait for more", not end of file.
        _ = copenssl_BIO_set_mem_eof_return(incoming, -1)
        SSL_set_bio(ssl, incoming, outgoing)
        // Unretained: the session frees the SSL, so it outlives every callback.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The session of `ssl`, inside an OpenSSL callback.
    static func owning(_ ssl: OpaquePointer) -> TLSSession? {
        SSL_get_ex_data(ssl, 0).map { Unmanaged<TLSSession>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Serves `context`'s certificate from now on (in an SNI callback).
    func switchContext(to context: SSLContext) {
        context.adopt(ssl)
        self.context = context
    }

    deinit {
        SSL_free(ssl)
    }

    /// Hands ciphertext to OpenSSL (a memory BIO takes all of it, copied).
    func feed(_ ciphertext: UnsafeRawBufferPointer) {
        _ = BIO_write(incoming, ciphertext.baseAddress, Int32(ciphertext.count))
    }

    /// The ciphertext OpenSSL has produced since the last call, if any.
    func takeOutgoing() -> [UInt8]? {
        let pending = Int(BIO_ctrl_pending(outgoing))
        guard pending > 0 else { return nil }
        return [UInt8](unsafeUninitializedCapacity: pending) { buffer, count in
            count = max(0, Int(BIO_read(outgoing, buffer.baseAddress, Int32(pending))))
        }
    }

    /// The error after a failed `SSL_*` call that returned `result`, or nil
    /// when OpenSSL only needs more ciphertext from the peer.
    func failure(after result: Int32, hostname: String?) -> (any Error)? {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return nil
        case SSL_ERROR_SSL:
            let queued = ERR_peek_error()
            let verify = SSL_get_verify_result(ssl)
            if Int32(queued & 0x7FFFFF) == SSL_R_CERTIFICATE_VERIFY_FAILED, verify != X509_V_OK {  // ERR_GET_REASON
                ERR_clear_error()
                return SSLCertVerificationError(code: verify, hostname: hostname)
            }
            return SSLError.fromQueue("SSL error")
        case SSL_ERROR_ZERO_RETURN:
            return SSLError(library: "SSL", reason: "ZERO_RETURN", message: "TLS/SSL connection has been closed (EOF)")
        default:
            return SSLError.fromQueue("EOF occurred in violation of protocol")
        }
    }

    // MARK: What the handshake settled

    /// nil when the peer sent no certificate; `.empty` when it sent one
    /// that the context did not ask to verify, as Python's `getpeercert()`
    /// gives `{}` then (its fields would be unchecked claims).
    func peerCertificate() -> PeerCertificate? {
        guard let x509 = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(x509) }
        guard SSL_CTX_get_verify_mode(SSL_get_SSL_CTX(ssl)) & SSL_VERIFY_PEER != 0 else { return .empty }
        return PeerCertificate(x509)
    }

    func cipher() -> SSLCipher? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher),
              let version = SSL_get_version(ssl) else { return nil }
        return SSLCipher(name: String(cString: name), protocolVersion: String(cString: version),
                         secretBits: Int(SSL_CIPHER_get_bits(cipher, nil)))
    }

    func selectedALPN() -> String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }
}

/// The negotiated cipher, as a TLS connection's `getExtraInfo("cipher")`
/// gives it (Python's `(name, protocol, secret_bits)` tuple).
public struct SSLCipher: Sendable, Equatable {
    /// `TLS_AES_256_GCM_SHA384`, `ECDHE-ECDSA-AES256-GCM-SHA384`, …
    public var name: String
    /// `TLSv1.2` or `TLSv1.3`.
    public var protocolVersion: String
    public var secretBits: Int
}
