import COpenSSL

/// One side of one TLS connection, as OpenSSL holds it (Python's
/// `ssl.SSLObject`): what an SNI callback is given, and a connection's
/// `getExtraInfo("ssl_object")`. Use it on the loop's thread only, like
/// the connection it belongs to.
public final class SSLObject {
    let session: TLSSession

    init(_ session: TLSSession) { self.session = session }

    public var serverSide: Bool { session.serverSide }

    /// The name a client asked for (nil on a server).
    public var serverHostname: String? { session.serverSide ? nil : session.serverHostname }

    /// The context whose certificate and settings the connection uses.
    /// Setting it inside an SNI callback serves that context's certificate
    /// instead, as Python's `SSLObject.context` setter does.
    public var context: SSLContext {
        get { session.context }
        set { session.switchContext(to: newValue) }
    }

    /// `TLSv1.2` or `TLSv1.3` once the handshake is done, else nil.
    public func version() -> String? {
        guard SSL_is_init_finished(session.ssl) == 1, let version = SSL_get_version(session.ssl) else { return nil }
        return String(cString: version)
    }

    public func cipher() -> SSLCipher? { session.cipher() }

    /// The compression method's name, nil when there is none (always for
    /// TLS 1.3), as Python's `SSLObject.compression()`.
    public func compression() -> String? { session.compression() }

    public func selectedALPNProtocol() -> String? { session.selectedALPN() }

    /// As the connection's `getExtraInfo("peercert")`.
    public func getPeerCertificate() -> PeerCertificate? { session.peerCertificate() }
}
