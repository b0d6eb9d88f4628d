#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import COpenSSL

/// One X.509 certificate, owning its OpenSSL `X509` (freed once, in deinit).
final class Certificate {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    /// Every certificate in PEM text, in order.
    static func readAll(pem: [UInt8]) throws(SSLError) -> [Certificate] {
        let bio = try MemoryBIO(pem)
        var certificates: [Certificate] = []
        while let x509 = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            certificates.append(Certificate(taking: x509))
        }
        // The read that ends the loop leaves "no start line" on the queue.
        let last = ERR_peek_last_error()
        ERR_clear_error()
        if certificates.isEmpty, last != 0, Int32((last >> 23) & 0xFF) != ERR_LIB_PEM {
            throw SSLError(code: last)
        }
        return certificates
    }

    func pem() -> [UInt8] {
        let bio = MemoryBIO()
        PEM_write_bio_X509(bio.pointer, pointer)
        return bio.contents()
    }
}

/// A private key, owning its OpenSSL `EVP_PKEY`.
final class PrivateKey {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// The first private key in PEM text, decrypted with `password` if it
    /// is encrypted.
    convenience init(pem: [UInt8], password: String?) throws(SSLError) {
        let bio = try MemoryBIO(pem)
        ERR_clear_error()
        // With no callback, OpenSSL takes the last argument as the password.
        let key = password.map { password in
            password.withCString { PEM_read_bio_PrivateKey(bio.pointer, nil, nil, UnsafeMutableRawPointer(mutating: $0)) }
        } ?? PEM_read_bio_PrivateKey(bio.pointer, nil, { _, _, _, _ in 0 }, nil)
        guard let key else { throw SSLError.fromQueue("cannot read the private key") }
        self.init(taking: key)
    }

    func pem() -> [UInt8] {
        let bio = MemoryBIO()
        PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil)
        return bio.contents()
    }
}

/// An OpenSSL memory BIO, freed once in deinit.
final class MemoryBIO {
    let pointer: OpaquePointer

    init() { pointer = BIO_new(BIO_s_mem())! }

    /// A BIO that reads `bytes` (copied in).
    convenience init(_ bytes: [UInt8]) throws(SSLError) {
        self.init()
        let written = bytes.withUnsafeBytes { BIO_write(pointer, $0.baseAddress, Int32($0.count)) }
        guard written == bytes.count || bytes.isEmpty else { throw SSLError.fromQueue("out of memory") }
    }

    deinit { BIO_free(pointer) }

    func contents() -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let count = copenssl_BIO_get_mem_data(pointer, &data)
        guard let data, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: count))
    }
}

/// A fresh self-signed certificate and its key, made in memory with
/// OpenSSL: the demos need no files, and each run trusts only its own.
public struct SelfSignedCertificate: Sendable {
    /// The certificate, PEM: what a client passes to `loadVerifyLocations(caData:)`.
    public let certificatePEM: [UInt8]
    /// The unencrypted private key, PEM.
    public let privateKeyPEM: [UInt8]

    /// An EC P-256 key and a certificate for `hostName` (its common name
    /// and DNS subject alternative name; 127.0.0.1 and ::1 as IP names
    /// too when it is `localhost`), valid from now for `days` days.
    public static func generate(hostName: String = "localhost", days: Int = 30) throws(SSLError) -> SelfSignedCertificate {
        ERR_clear_error()
        guard let keyPointer = copenssl_EVP_EC_gen("P-256") else { throw SSLError.fromQueue("cannot generate an EC key") }
        let key = PrivateKey(taking: keyPointer)
        guard let x509 = X509_new() else { throw SSLError.fromQueue("out of memory") }
        let certificate = Certificate(taking: x509)
        var serial: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &serial) { RAND_bytes($0.baseAddress, Int32($0.count)) }
        guard X509_set_version(x509, 2) == 1,  // version 3, counted from 0
              ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial >> 1) == 1,
              X509_gmtime_adj(X509_getm_notBefore(x509), -60) != nil,
              X509_gmtime_adj(X509_getm_notAfter(x509), days * 86_400) != nil,
              let name = X509_get_subject_name(x509),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, hostName, -1, -1, 0) == 1,
              X509_set_issuer_name(x509, name) == 1,
              X509_set_pubkey(x509, key.pointer) == 1
        else { throw SSLError.fromQueue("cannot build the certificate") }
        var names = "DNS:\(hostName)"
        if hostName == "localhost" { names += ",IP:127.0.0.1,IP:::1" }
        guard copenssl_X509_add_extension_text(x509, NID_subject_alt_name, names) == 1,
              X509_sign(x509, key.pointer, EVP_sha256()) > 0
        else { throw SSLError.fromQueue("cannot sign the certificate") }
        return SelfSignedCertificate(certificatePEM: certificate.pem(), privateKeyPEM: key.pem())
    }
}

/// The peer's certificate as a connection's `getExtraInfo("peercert")`
/// gives it: the fields of Python's `getpeercert()`.
public struct PeerCertificate: Sendable, Equatable {
    /// (attribute, value) pairs in order, long names as Python's: ("commonName", "localhost").
    public var subject: [NameEntry]
    public var issuer: [NameEntry]
    /// ("DNS", "localhost"), ("IP Address", "127.0.0.1"), …
    public var subjectAltName: [NameEntry]
    /// As Python prints them: `Jan  5 09:34:43 2027 GMT`.
    public var notBefore: String
    public var notAfter: String
    /// Upper-case hexadecimal, as Python's `serialNumber`.
    public var serialNumber: String

    public struct NameEntry: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    /// What a connection gives for a certificate it did not verify
    /// (Python's `getpeercert()` returning `{}`): no fields at all.
    public static let empty = PeerCertificate()

    /// True for `empty`: the peer sent a certificate, but nothing checked it.
    public var isEmpty: Bool { self == .empty }

    private init() {
        subject = []
        issuer = []
        subjectAltName = []
        notBefore = ""
        notAfter = ""
        serialNumber = ""
    }

    init(_ x509: OpaquePointer) {
        subject = Self.entries(X509_get_subject_name(x509))
        issuer = Self.entries(X509_get_issuer_name(x509))
        notBefore = Self.text(X509_get0_notBefore(x509))
        notAfter = Self.text(X509_get0_notAfter(x509))
        serialNumber = Self.hex(X509_get0_serialNumber(x509))
        subjectAltName = Self.alternativeNames(x509)
    }

    private static func entries(_ name: OpaquePointer?) -> [NameEntry] {
        guard let name else { return [] }
        return (0..<X509_NAME_entry_count(name)).compactMap { index in
            guard let entry = X509_NAME_get_entry(name, index) else { return nil }
            let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
            let key = OBJ_nid2ln(nid).map { String(cString: $0) } ?? "\(nid)"
            var utf8: UnsafeMutablePointer<UInt8>?
            let count = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))
            guard count >= 0, let utf8 else { return nil }
            defer { copenssl_OPENSSL_free(utf8) }
            return NameEntry(name: key, value: String(decoding: UnsafeBufferPointer(start: utf8, count: Int(count)), as: UTF8.self))
        }
    }

    private static func text(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        let bio = MemoryBIO()
        guard let time, ASN1_TIME_print(bio.pointer, time) == 1 else { return "" }
        return String(decoding: bio.contents(), as: UTF8.self)
    }

    private static func hex(_ serial: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let serial, let number = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { copenssl_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    private static func alternativeNames(_ x509: OpaquePointer) -> [NameEntry] {
        guard let raw = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { copenssl_GENERAL_NAMES_free(names) }
        return (0..<copenssl_sk_GENERAL_NAME_num(names)).compactMap { index in
            guard let name = copenssl_sk_GENERAL_NAME_value(names, index) else { return nil as NameEntry? }
            if let dns = copenssl_GENERAL_NAME_dns(name) {
                return NameEntry(name: "DNS", value: asciiText(dns))
            }
            if let ip = copenssl_GENERAL_NAME_ip(name) {
                return NameEntry(name: "IP Address", value: addressText(ip))
            }
            return nil
        }
    }

    private static func bytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(string), count: Int(ASN1_STRING_length(string))))
    }

    private static func asciiText(_ string: UnsafePointer<ASN1_STRING>) -> String { String(decoding: bytes(string), as: UTF8.self) }

    private static func addressText(_ string: UnsafePointer<ASN1_STRING>) -> String {
        let raw = bytes(string)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = raw.count == 4 ? AF_INET : AF_INET6
        guard raw.count == 4 || raw.count == 16, inet_ntop(family, raw, &text, socklen_t(text.count)) != nil else {
            return raw.map { String($0) }.joined(separator: ".")
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
