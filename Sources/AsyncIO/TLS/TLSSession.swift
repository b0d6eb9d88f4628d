import COpenSSL

/// One side of one TLS connection in OpenSSL: an `SSL` whose BIO reads
/// ciphertext straight from the buffer the socket read into and writes it
/// into the loop's shared outgoing buffer, which the layer hands to the
/// socket after every call into OpenSSL. It has no buffers of its own
/// except, rarely, ciphertext OpenSSL has not taken when the layer stops
/// feeding it (reading paused): an idle connection costs only OpenSSL's
/// state. Not isolated, so its deinit frees everything exactly once
/// wherever the last reference goes (`SSL_free` frees the BIO).
final class TLSSession {
    let ssl: OpaquePointer
    /// What the BIO reads from and writes to (see `copenssl_channel`).
    private let channel: UnsafeMutablePointer<copenssl_channel>
    /// Ciphertext OpenSSL has not read yet, copied out of the socket's
    /// buffer because that buffer is reused by the next read; nil when the
    /// channel's input is empty or borrowed.
    private var kept: UnsafeMutableRawBufferPointer?
    /// The channel's input points into a buffer the caller owns only until
    /// `keepUnread` (the socket's receive buffer).
    private var inputBorrowed = false

    let serverSide: Bool
    /// The name a client sends as SNI and checks the certificate against.
    let serverHostname: String?
    /// The context the connection uses now: the one it was made with,
    /// unless an SNI callback switched it. Held so that its SSL_CTX's
    /// callbacks, which point at it, stay valid.
    var context: SSLContext

    /// What the layer asks a buffered application's `getBuffer` for.
    static let bufferSize = 64 * 1024

    /// The BIO type, made once: OpenSSL only reads it after it is set up.
    nonisolated(unsafe) private static let channelMethod: OpaquePointer = copenssl_channel_method_new()!

    /// `output` is where OpenSSL writes ciphertext; the caller empties it
    /// (`clearOutgoing`) after every call into OpenSSL, so one buffer can
    /// serve every connection of a loop.
    init(context: SSLContext, serverSide: Bool, serverHostname: String?,
         output: UnsafeMutableRawBufferPointer) throws(SSLError) {
        let ssl = try context.makeSSL()
        self.ssl = ssl
        self.context = context
        self.serverSide = serverSide
        self.serverHostname = serverHostname
        channel = .allocate(capacity: 1)
        channel.initialize(to: copenssl_channel(in: nil, in_length: 0, out: output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                out_length: 0, out_capacity: output.count))
        let bio = BIO_new(Self.channelMethod)!
        BIO_set_data(bio, channel)
        // One BIO both ways: SSL_set_bio then takes over its one reference.
        SSL_set_bio(ssl, bio, bio)
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
        kept?.deallocate()
        channel.deallocate()
    }

    // MARK: Ciphertext in

    /// Hands OpenSSL `ciphertext`, which stays valid until `keepUnread`:
    /// OpenSSL reads it in place, after anything it had not read before.
    func feed(_ ciphertext: UnsafeRawBufferPointer) {
        precondition(!inputBorrowed, "feed() again before keepUnread()")
        if channel.pointee.in_length == 0 {
            releaseKept()
            channel.pointee.in = ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self)
            channel.pointee.in_length = ciphertext.count
            inputBorrowed = true
        } else {
            keep(appending: ciphertext)
        }
    }

    /// Copies what OpenSSL has not read of the fed ciphertext, which the
    /// caller is about to reuse; usually nothing is left.
    func keepUnread() {
        guard inputBorrowed else {
            // A copy kept while reading was paused, which OpenSSL has now
            // read to the end: an idle connection holds no buffer.
            if channel.pointee.in_length == 0, kept != nil {
                channel.pointee.in = nil
                releaseKept()
            }
            return
        }
        inputBorrowed = false
        if channel.pointee.in_length == 0 {
            channel.pointee.in = nil
        } else {
            keep(appending: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// Forgets ciphertext OpenSSL has not read (the connection is over).
    func discardUnread() {
        inputBorrowed = false
        channel.pointee.in = nil
        channel.pointee.in_length = 0
        releaseKept()
    }

    /// Ciphertext received that OpenSSL has not read yet.
    var unreadCount: Int { channel.pointee.in_length }

    /// Moves the unread input, then `more`, into a buffer of the session's own.
    private func keep(appending more: UnsafeRawBufferPointer) {
        let unread = UnsafeRawBufferPointer(start: channel.pointee.in, count: channel.pointee.in_length)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: unread.count + more.count, alignment: 1)
        buffer.copyMemory(from: unread)
        UnsafeMutableRawBufferPointer(rebasing: buffer[unread.count...]).copyMemory(from: more)
        releaseKept()  // after the copy: `unread` may point into it
        kept = buffer
        inputBorrowed = false
        channel.pointee.in = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
        channel.pointee.in_length = buffer.count
    }

    private func releaseKept() {
        kept?.deallocate()
        kept = nil
    }

    // MARK: Ciphertext out

    /// The ciphertext OpenSSL has written since the last `clearOutgoing`,
    /// in the shared output buffer.
    var outgoing: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: channel.pointee.out, count: channel.pointee.out_length)
    }

    func clearOutgoing() { channel.pointee.out_length = 0 }

    /// The error after a failed `SSL_*` call that returned `result`, or nil
    /// when OpenSSL only needs more ciphertext from the peer.
    func failure(after result: Int32, hostname: String?) -> (any Error)? {
        failure(code: SSL_get_error(ssl, result), hostname: hostname)
    }

    /// `failure(after:hostname:)` given what `SSL_get_error` said.
    func failure(code: Int32, hostname: String?) -> (any Error)? {
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

    /// The compression method's name (Python's `SSLObject.compression()`):
    /// nil when the connection is not compressed, which is always so for
    /// TLS 1.3 and for contexts with Python's defaults (compression off).
    func compression() -> String? {
        guard let method = SSL_get_current_compression(ssl), let name = SSL_COMP_get_name(method) else { return nil }
        return String(cString: name)
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
