#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import COpenSSL

/// A TLS client the test drives step by step: real OpenSSL over a plain
/// TCP connection of the loop, so a test can hold back its close_notify,
/// close TCP without one, cut a record in half or reset the connection,
/// things a well-behaved TLS layer never does.
@LoopActor
final class RawTLSPeer: StreamingProtocol {
    private let session: TLSSession
    /// Where OpenSSL writes this peer's ciphertext, emptied after each call.
    private let output = OwnedBuffer(byteCount: 64 * 1024)
    private var plain = [UInt8](repeating: 0, count: 16 * 1024)
    private(set) var transport: (any Transport)?
    /// Plaintext received so far.
    private(set) var received: [UInt8] = []
    private(set) var handshakeDone = false
    private(set) var sawCloseNotify = false
    private(set) var sawEof = false
    private(set) var isLost = false
    private(set) var failure: (any Error)?

    init(context: SSLContext, serverHostname: String = "localhost") throws {
        session = try TLSSession(context: context, serverSide: false, serverHostname: serverHostname, output: output.bytes)
        SSL_set_connect_state(session.ssl)
        _ = copenssl_SSL_set_tlsext_host_name(session.ssl, serverHostname)
        SSL_set1_host(session.ssl, serverHostname)
    }

    func connectionMade(_ transport: any Transport) {
        self.transport = transport
        step()
    }

    func dataReceived(_ data: [UInt8]) {
        data.withUnsafeBytes { ciphertext in
            session.feed(ciphertext)
            step()
            session.keepUnread()
        }
    }

    /// Keeps the socket open: the test decides when to close.
    func eofReceived() -> Bool {
        sawEof = true
        return true
    }

    func connectionLost(_ error: (any Error)?) { isLost = true }

    private func step() {
        if !handshakeDone {
            ERR_clear_error()
            let result = SSL_do_handshake(session.ssl)
            flush()
            guard result == 1 else {
                failure = session.failure(after: result, hostname: nil)
                return
            }
            handshakeDone = true
        }
        while !sawCloseNotify {
            ERR_clear_error()
            let count = plain.withUnsafeMutableBytes { SSL_read(session.ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                received += plain[..<Int(count)]
                continue
            }
            if SSL_get_error(session.ssl, count) == SSL_ERROR_ZERO_RETURN { sawCloseNotify = true }
            break
        }
        // Answers a TLS 1.3 key update or ticket, never a close_notify.
        flush()
    }

    private func flush() {
        let ciphertext = session.outgoing
        guard ciphertext.count > 0 else { return }
        session.clearOutgoing()
        transport?.write(Array(ciphertext))
    }

    /// Encrypts and sends `bytes`.
    func send(_ bytes: [UInt8]) {
        transport?.write(encrypt(bytes))
    }

    /// The records carrying `bytes`, not sent.
    func encrypt(_ bytes: [UInt8]) -> [UInt8] {
        var records: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            // One record at a time, each well within the output buffer.
            let chunk = min(16 * 1024, bytes.count - offset)
            let written = bytes.withUnsafeBytes { SSL_write(session.ssl, $0.baseAddress! + offset, Int32(chunk)) }
            precondition(written == Int32(chunk), "SSL_write wrote \(written) of \(chunk)")
            records += session.outgoing
            session.clearOutgoing()
            offset += chunk
        }
        return records
    }

    func sendCloseNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(session.ssl)
        ERR_clear_error()
        flush()
    }

    /// Closes TCP with a reset (SO_LINGER 0) instead of a FIN.
    func reset() {
        if let fd = transport?.getExtraInfo("socket") as? Int32 {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        transport?.abort()
    }
}

/// Memory of a fixed size, freed with its owner.
final class OwnedBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(byteCount: Int) { bytes = .allocate(byteCount: byteCount, alignment: 16) }

    deinit { bytes.deallocate() }
}
