import COpenSSL

/// An error from OpenSSL (Python's `ssl.SSLError`), printed as Python
/// prints it without the `(_ssl.c:NNN)` tail:
/// `[SSL: WRONG_VERSION_NUMBER] wrong version number`.
public struct SSLError: Error, CustomStringConvertible, Sendable {
    /// The OpenSSL library that failed, as Python names it (`SSL`, `X509`,
    /// `PEM`), or nil for errors of the TLS layer itself.
    public var library: String?
    /// The symbolic reason, as Python's `reason` (`NO_SHARED_CIPHER`).
    public var reason: String?
    /// OpenSSL's text for the reason, or the layer's own message.
    public var message: String

    public init(library: String?, reason: String?, message: String) {
        self.library = library
        self.reason = reason
        self.message = message
    }

    /// The layer's own failures, which have no OpenSSL reason.
    init(_ message: String) { self.init(library: nil, reason: nil, message: message) }

    public var description: String {
        guard let reason else { return message }
        return "[\(library ?? "SSL"): \(reason)] \(message)"
    }

    /// The oldest error on this thread's OpenSSL error queue, which is then
    /// cleared; `fallback` when the queue is empty.
    static func fromQueue(_ fallback: String) -> SSLError {
        defer { ERR_clear_error() }
        let code = ERR_peek_error()
        guard code != 0 else { return SSLError(fallback) }
        return SSLError(code: code)
    }

    init(code: UInt) {
        let text = ERR_reason_error_string(code).map { String(cString: $0) } ?? "unknown error"
        self.init(library: Self.libraryName(code), reason: Self.reasonName(text), message: text)
    }

    /// Python prints OpenSSL's library codes with short names of its own.
    private static func libraryName(_ code: UInt) -> String {
        let library = Int32((code >> 23) & 0xFF)  // ERR_GET_LIB, a macro in OpenSSL 3
        switch library {
        case ERR_LIB_SSL: return "SSL"
        case ERR_LIB_X509: return "X509"
        case ERR_LIB_PEM: return "PEM"
        case ERR_LIB_EVP: return "EVP"
        case ERR_LIB_ASN1: return "ASN1"
        case ERR_LIB_SYS: return "SYS"
        default: return ERR_lib_error_string(code).map { String(cString: $0) } ?? "SSL"
        }
    }

    /// OpenSSL has no call that returns a reason's symbol; its text,
    /// upper-cased with underscores, is the symbol for the reasons a TLS
    /// connection meets ("certificate verify failed" → CERTIFICATE_VERIFY_FAILED).
    private static func reasonName(_ text: String) -> String {
        String(text.uppercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }
}

/// The peer's certificate did not verify (Python's
/// `ssl.SSLCertVerificationError`): prints as
/// `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate`.
public struct SSLCertVerificationError: Error, CustomStringConvertible, Sendable {
    /// OpenSSL's `X509_V_ERR_*` code (Python's `verify_code`), e.g. 18 for a
    /// self-signed certificate, 62 for a host name that does not match.
    public var verifyCode: Int
    /// Python's `verify_message`.
    public var verifyMessage: String

    public init(verifyCode: Int, verifyMessage: String) {
        self.verifyCode = verifyCode
        self.verifyMessage = verifyMessage
    }

    public var reason: String { "CERTIFICATE_VERIFY_FAILED" }

    public var description: String {
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: \(verifyMessage)"
    }

    /// What `SSL_get_verify_result` says, worded as Python words it.
    init(code: Int, hostname: String?) {
        if code == Int(X509_V_ERR_HOSTNAME_MISMATCH), let hostname {
            self.init(verifyCode: code, verifyMessage: "Hostname mismatch, certificate is not valid for '\(hostname)'.")
        } else if code == Int(X509_V_ERR_IP_ADDRESS_MISMATCH), let hostname {
            self.init(verifyCode: code, verifyMessage: "IP address mismatch, certificate is not valid for '\(hostname)'.")
        } else {
            let text = X509_verify_cert_error_string(code).map { String(cString: $0) } ?? "unknown error"
            self.init(verifyCode: code, verifyMessage: text)
        }
    }
}
