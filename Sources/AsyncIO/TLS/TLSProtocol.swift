#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import COpenSSL

/// TLS between a socket transport and the application's protocol
/// (asyncio's `SSLProtocol`): the socket transport's protocol, fed
/// ciphertext, which OpenSSL decrypts for the application; the application
/// writes plaintext through `TLSAppTransport`.
///
/// OpenSSL reads ciphertext in place from the loop's receive buffer and
/// writes it into the loop's shared output buffer (see `TLSSession`), so
/// every call into OpenSSL is followed at once by `flushOutgoing`, before
/// anything else (another connection) can write there.
///
/// States (an illegal move is a bug, so each step checks where it is):
///
///     handshaking ──handshake done──▶ wrapped ──close(), peer's close_notify──▶ shuttingDown
///          │                            │                                        │
///          └── failure, timeout, ───────┴────────── connection lost ─────────────┴──▶ lost
///
/// `shuttingDown` has sent close_notify and waits, up to the shutdown
/// timeout, for the peer's before closing the socket; application data
/// still arriving then is dropped, as the application has closed.
///
/// The application's `connectionMade` comes only after the handshake
/// (never, for `startTLS`, whose caller gets the transport instead), and
/// its `connectionLost` exactly once after that; then the layer lets go of
/// the application's protocol and transport.
@LoopActor
final class TLSProtocol: BufferedProtocol {
    private enum State { case handshaking, wrapped, shuttingDown, lost }

    let loop: EventLoop
    let context: SSLContext
    private let session: TLSSession
    private let serverSide: Bool
    /// The name a client checks the certificate against and sends as SNI.
    private let serverHostname: String?
    private let handshakeTimeout: Double
    private let shutdownTimeout: Double
    /// False for `startTLS`: the application's protocol is already connected.
    private let callConnectionMade: Bool
    private var state = State.handshaking
    /// The application's protocol, until its `connectionLost` has run.
    private var application: (any BaseProtocol)? {
        didSet { if application == nil { delivery = .none } }
    }
    /// How the application takes plaintext, decided once: a dynamic cast
    /// per read would cost a conformance lookup each time.
    private enum Delivery {
        case streaming(any StreamingProtocol)
        case buffered(any BufferedProtocol)
        case none
    }
    private var delivery: Delivery
    /// Held until the connection is lost: on a server nothing else holds it
    /// before the application's `connectionMade`.
    private var appTransport: TLSAppTransport?
    /// The socket transport; kept after the loss for its extra info (it
    /// lets go of this protocol then, so there is no cycle).
    var underlying: (any Transport)? {
        didSet { socket = underlying as? StreamTransport }
    }
    /// `underlying` as what it always is, a socket transport, whose write
    /// sends from the shared output buffer without a copy.
    private var socket: StreamTransport?
    private var waiter: Future<Void>?
    private var handshakeTimer: TimerHandle?
    private var shutdownTimer: TimerHandle?
    /// What the application's `connectionLost` reports when the socket
    /// transport, closed by this layer, reports no error of its own.
    private var lossError: (any Error)?
    private var appConnected = false
    private var closing = false
    private var readingPaused = false
    private var eofDelivered = false
    /// The peer closed the socket while reading was paused: its end is
    /// delivered once the application has read what OpenSSL still holds.
    private var eofPending = false
    // The state touched on every record is `@exclusivity(unchecked)`, as
    // the socket transport's: only the loop thread uses it, never through
    // overlapping inout accesses, and the dynamic check cost more than the
    // rest of the layer's own work per record.
    /// Plaintext OpenSSL could not take yet (it wanted the peer's bytes first).
    @exclusivity(unchecked) private var pendingPlain: [[UInt8]] = []
    @exclusivity(unchecked) private var pendingPlainBytes = 0
    @exclusivity(unchecked) private var flow = FlowControl()
    /// Set once by the handshake.
    private(set) var peerCertificate: PeerCertificate?
    private(set) var cipher: SSLCipher?
    private(set) var selectedALPN: String?
    var sslObject: SSLObject { SSLObject(session) }
    /// nil before the handshake and whenever the connection is not compressed.
    var compression: String? { session.compression() }

    /// asyncio's `ssl_handshake_timeout` default.
    static let defaultHandshakeTimeout = 60.0
    /// asyncio's `ssl_shutdown_timeout` default.
    static let defaultShutdownTimeout = 30.0

    init(loop: EventLoop, context: SSLContext, application: any BaseProtocol, serverSide: Bool,
         serverHostname: String?, handshakeTimeout: Double?, shutdownTimeout: Double? = nil,
         callConnectionMade: Bool = true, waiter: Future<Void>?) throws(SSLError) {
        self.loop = loop
        self.context = context
        self.session = try TLSSession(context: context, serverSide: serverSide, serverHostname: serverHostname,
                                      output: loop.tlsBuffers.ciphertext)
        self.application = application
        if let buffered = application as? any BufferedProtocol {
            delivery = .buffered(buffered)
        } else if let streaming = application as? any StreamingProtocol {
            delivery = .streaming(streaming)
        } else {
            delivery = .none
        }
        self.serverSide = serverSide
        self.serverHostname = serverHostname
        self.handshakeTimeout = handshakeTimeout ?? Self.defaultHandshakeTimeout
        self.shutdownTimeout = shutdownTimeout ?? Self.defaultShutdownTimeout
        self.callConnectionMade = callConnectionMade
        // Upgraded by startTLS, the application is connected already and
        // hears of the connection's end even if the handshake fails.
        appConnected = !callConnectionMade
        self.waiter = waiter
        if serverSide {
            SSL_set_accept_state(session.ssl)
        } else {
            SSL_set_connect_state(session.ssl)
            if let serverHostname, !serverHostname.isEmpty {
                // SNI is for names only; an IP address is checked but not sent.
                if SocketAddress(ip: serverHostname, port: 0) == nil {
                    _ = copenssl_SSL_set_tlsext_host_name(session.ssl, serverHostname)
                }
                if context.checkHostname { SSL_set1_host(session.ssl, serverHostname) }
            }
        }
        appTransport = TLSAppTransport(layer: self)
    }

    /// The transport the application sees.
    var transport: TLSAppTransport { appTransport! }

    // MARK: The socket transport's callbacks

    func connectionMade(_ transport: any Transport) {
        underlying = transport
        // The socket transport pauses this layer as soon as its ciphertext
        // reaches the application's low-water mark, so the layer hears when
        // it drains back there (see `updateFlow`).
        transport.setWriteBufferLimits(high: flow.lowWater, low: flow.lowWater)
        // The timers and callbacks hold the layer strongly: a weak reference
        // would move its reference count to a side table for good, slowing
        // every retain and release on every record. Each timer is cancelled,
        // and so lets go, when the handshake or the connection ends.
        handshakeTimer = loop.callLater(handshakeTimeout, label: "ssl handshake timeout") { [self] in
            handshakeTimedOut()
        }
        doHandshake()
    }

    /// The loop's shared receive buffer: OpenSSL reads the ciphertext in
    /// place during `bufferUpdated`, which copies what it leaves unread
    /// before anything else can read into the buffer.
    func getBuffer(_ sizeHint: Int) -> UnsafeMutableRawBufferPointer { loop.receiveBuffer }

    func bufferUpdated(_ count: Int) {
        guard state != .lost else { return }
        session.feed(UnsafeRawBufferPointer(rebasing: loop.receiveBuffer[..<count]))
        switch state {
        case .handshaking: doHandshake()
        case .wrapped: readPlaintext()
        case .shuttingDown: awaitPeerCloseNotify()
        case .lost: break
        }
        if state == .lost || aborted { session.discardUnread() } else { session.keepUnread() }
    }

    /// The application aborted: nothing more is read or delivered.
    private var aborted: Bool { closing && underlying?.isClosing != false }

    func eofReceived() -> Bool {
        switch state {
        case .handshaking:
            handshakeFailed(OSError(errno: ECONNRESET, operation: "SSL handshake"))
        case .wrapped:
            // The peer closed TCP without close_notify. As asyncio: what
            // OpenSSL holds is delivered first, then EOF, then the socket
            // closes and `connectionLost(nil)` follows. With reading paused
            // that waits for `resumeReading`, and the socket stays open.
            if !readingPaused { readPlaintext() }
            // Paused before or by what was just delivered: OpenSSL may still hold some.
            if readingPaused {
                eofPending = true
                return true
            }
            if state == .wrapped { deliverEof() }
        case .shuttingDown, .lost:
            break
        }
        return false
    }

    func connectionLost(_ error: (any Error)?) {
        let error = error ?? lossError
        handshakeTimer?.cancel()
        handshakeTimer = nil
        shutdownTimer?.cancel()
        shutdownTimer = nil
        if state == .handshaking {
            let error = error ?? OSError(errno: ECONNRESET, operation: "SSL handshake")
            if let waiter, !waiter.isDone { try? waiter.setException(error) }
        }
        state = .lost
        waiter = nil
        pendingPlain = []
        pendingPlainBytes = 0
        if appConnected { application?.connectionLost(error) }
        application = nil
        appTransport = nil
    }

    func pauseWriting() {}

    func resumeWriting() { updateFlow() }

    // MARK: Handshake

    private func doHandshake() {
        guard state == .handshaking else { return }
        let result = callOpenSSL { SSL_do_handshake($0) }
        if result == 1 { return handshakeDone() }
        if let error = session.failure(after: result, hostname: serverHostname) { handshakeFailed(error) }
    }

    private func handshakeDone() {
        state = .wrapped
        handshakeTimer?.cancel()
        handshakeTimer = nil
        peerCertificate = session.peerCertificate()
        cipher = session.cipher()
        selectedALPN = session.selectedALPN()
        appConnected = true
        if callConnectionMade, let application, let appTransport { application.connectionMade(appTransport) }
        if let waiter, !waiter.isDone { try? waiter.setResult(()) }
        waiter = nil
        // Application data may have come in the same reads as the handshake's end.
        readPlaintext()
    }

    /// A client's `createConnection` throws `error`; a server logs it and
    /// goes on serving. The alert OpenSSL wrote still goes out.
    private func handshakeFailed(_ error: any Error, abort: Bool = false) {
        guard state == .handshaking else { return }
        state = .lost
        handshakeTimer?.cancel()
        handshakeTimer = nil
        if serverSide {
            let peer = (underlying?.getExtraInfo("peername") as? SocketAddress).map { " from \($0.host) port \($0.port)" } ?? ""
            asyncioLogger.info("SSL handshake failed\(peer): \(error)")
        }
        if let waiter, !waiter.isDone { try? waiter.setException(error) }
        waiter = nil
        if abort { underlying?.abort() } else { underlying?.close() }
    }

    private func handshakeTimedOut() {
        guard state == .handshaking else { return }
        handshakeFailed(SSLError("SSL handshake is taking longer than \(handshakeTimeout) seconds: aborting the connection"),
                        abort: true)
    }

    // MARK: Reading

    /// Decrypts what OpenSSL holds and hands it to the application until
    /// OpenSSL needs more ciphertext or the application pauses reading.
    private func readPlaintext() {
        // Once the application closes or aborts, it is given no more data,
        // as asyncio's layer leaves its wrapped state then.
        reading: while state == .wrapped, !readingPaused, !closing {
            copenssl_clear_stale_errors()
            let result: Int32
            switch delivery {
            case .buffered(let buffered):
                let target = buffered.getBuffer(TLSSession.bufferSize)
                precondition(target.count > 0, "getBuffer() returned an empty buffer")
                result = SSL_read(session.ssl, target.baseAddress, Int32(clamping: target.count))
                // Before the application runs: it may write on another connection.
                if flushOutgoing(after: result) { continue }
                if result > 0 { buffered.bufferUpdated(Int(result)) }
            case .streaming(let streaming):
                // Shared, free again once the application has its copy.
                let plain = loop.tlsBuffers.plaintext
                result = SSL_read(session.ssl, plain.baseAddress, Int32(clamping: plain.count))
                if flushOutgoing(after: result) { continue }
                if result > 0 { streaming.dataReceived(Array(UnsafeRawBufferPointer(rebasing: plain[..<Int(result)]))) }
            case .none:
                break reading
            }
            if result > 0 {
                // All fed ciphertext read and nothing left in OpenSSL's
                // buffers: another SSL_read would only say WANT_READ.
                if session.unreadCount == 0, SSL_has_pending(session.ssl) == 0 { break }
                continue
            }
            let code = SSL_get_error(session.ssl, result)
            if code == SSL_ERROR_ZERO_RETURN {
                // The peer's close_notify: answer it, then close the socket.
                deliverEof()
                closing = true
                beginShutdown()
                return
            }
            if let error = session.failure(code: code, hostname: serverHostname) {
                return failConnection(error, "SSL error in data received")
            }
            break
        }
        // Reading may have unblocked plaintext that waited for the peer.
        retryPendingPlain()
    }

    private func deliverEof() {
        guard !eofDelivered, appConnected else { return }
        eofDelivered = true
        let keepOpen = switch delivery {
        case .buffered(let buffered): buffered.eofReceived()
        case .streaming(let streaming): streaming.eofReceived()
        case .none: false
        }
        if keepOpen { asyncioLogger.warning("returning true from eof_received() has no effect when using ssl") }
    }

    func pauseReading() {
        guard !readingPaused, !closing else { return }
        readingPaused = true
        underlying?.pauseReading()
    }

    func resumeReading() {
        guard readingPaused, !closing else { return }
        readingPaused = false
        if !eofPending { underlying?.resumeReading() }
        // OpenSSL may already hold decrypted records the socket will not announce again.
        loop.callSoon(label: "ssl resume reading") { [self] in readAfterResume() }
    }

    private func readAfterResume() {
        readPlaintext()
        session.keepUnread()
        guard eofPending, !readingPaused, state == .wrapped else { return }
        eofPending = false
        deliverEof()
        underlying?.close()
    }

    var isReading: Bool { !readingPaused && !closing && state != .lost }

    // MARK: Writing

    func write(_ data: [UInt8]) {
        guard !data.isEmpty else { return }
        guard state == .wrapped, !closing else {
            if state == .handshaking, !closing {
                // Only reachable through the transport returned before the handshake.
                pendingPlain.append(data)
                pendingPlainBytes += data.count
                return updateFlow()
            }
            return
        }
        if pendingPlain.isEmpty {
            encrypt(data)
        } else {
            pendingPlain.append(data)
            pendingPlainBytes += data.count
        }
        updateFlow()
    }

    /// Encrypts and sends `data` whole, or queues it when OpenSSL first
    /// needs to hear from the peer.
    private func encrypt(_ data: [UInt8]) {
        let result = callOpenSSL { Self.write(data, to: $0) }
        if result > 0 { return }
        if let error = session.failure(after: result, hostname: serverHostname) {
            return failConnection(error, "SSL error in write")
        }
        pendingPlain.insert(data, at: 0)
        pendingPlainBytes += data.count
    }

    /// SSL_write of all of `data`. Nonisolated, so the closure it passes
    /// carries no actor isolation to check at run time on every write.
    private nonisolated static func write(_ data: [UInt8], to ssl: OpaquePointer) -> Int32 {
        data.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(clamping: $0.count)) }
    }

    private func retryPendingPlain() {
        guard state == .wrapped, !pendingPlain.isEmpty else { return }
        let waiting = pendingPlain
        pendingPlain = []
        pendingPlainBytes = 0
        for (index, chunk) in waiting.enumerated() {
            encrypt(chunk)
            if !pendingPlain.isEmpty {
                pendingPlain += waiting[(index + 1)...]
                pendingPlainBytes = pendingPlain.reduce(0) { $0 + $1.count }
                break
            }
        }
        updateFlow()
    }

    /// Hands the socket what OpenSSL wrote into the shared output buffer.
    private func flushOutgoing() {
        let ciphertext = session.outgoing
        guard ciphertext.count > 0 else { return }
        session.clearOutgoing()
        if let socket {
            socket.write(bytes: ciphertext)
        } else {
            underlying?.write(Array(ciphertext))
        }
    }

    /// Makes `call` with an empty error queue, hands the socket what it
    /// wrote, and makes it again, with the same arguments as OpenSSL
    /// requires, while it stopped only because the output buffer was full.
    @inline(__always)
    private func callOpenSSL(_ call: (OpaquePointer) -> Int32) -> Int32 {
        var result: Int32
        repeat {
            copenssl_clear_stale_errors()
            result = call(session.ssl)
        } while flushOutgoing(after: result)
        return result
    }

    /// `flushOutgoing` after a call into OpenSSL that returned `result`;
    /// true when the call stopped because the output buffer was full, so
    /// it must be made again (with the same arguments).
    private func flushOutgoing(after result: Int32) -> Bool {
        let full = result <= 0 && session.outgoing.count > 0 && SSL_get_error(session.ssl, result) == SSL_ERROR_WANT_WRITE
        flushOutgoing()
        return full
    }

    /// Ciphertext received that OpenSSL has not read yet (kept while reading is paused).
    var incomingCiphertextSize: Int { session.unreadCount }

    /// Plaintext not yet encrypted plus ciphertext not yet sent.
    var writeBufferSize: Int { pendingPlainBytes + (underlying?.writeBufferSize ?? 0) }

    private func updateFlow() {
        guard appConnected, let application else { return }
        let buffered = writeBufferSize
        if flow.shouldPause(buffered: buffered) {
            application.pauseWriting()
        } else if flow.shouldResume(buffered: buffered) {
            application.resumeWriting()
        }
    }

    func setWriteBufferLimits(high: Int?, low: Int?) {
        flow.setLimits(high: high, low: low)
        underlying?.setWriteBufferLimits(high: flow.lowWater, low: flow.lowWater)
        updateFlow()
    }

    var writeBufferLimits: (high: Int, low: Int) { (flow.highWater, flow.lowWater) }

    // MARK: Closing

    var isClosing: Bool { closing || state == .lost }

    /// Sends close_notify after what is buffered and waits, up to the
    /// shutdown timeout, for the peer's before closing the socket; during
    /// the handshake, aborts it (asyncio's `_start_shutdown`).
    func close() {
        guard !closing, state != .lost else { return }
        closing = true
        switch state {
        case .handshaking: underlying?.abort()
        case .wrapped: beginShutdown()
        case .shuttingDown, .lost: break
        }
    }

    private func beginShutdown() {
        guard state == .wrapped else { return }
        retryPendingPlain()
        guard state == .wrapped else { return }  // encrypting it failed
        state = .shuttingDown
        let result = callOpenSSL { SSL_shutdown($0) }
        if result == 1 { return shutdownComplete() }  // the peer's close_notify came first
        shutdownTimer = loop.callLater(shutdownTimeout, label: "ssl shutdown timeout") { [self] in
            shutdownTimedOut()
        }
        // The peer's close_notify can only come in through reading.
        if readingPaused, !eofPending { underlying?.resumeReading() }
        awaitPeerCloseNotify()
    }

    /// Reads what came after our close_notify until the peer's, dropping
    /// application data (reading is how OpenSSL advises waiting for it).
    private func awaitPeerCloseNotify() {
        guard state == .shuttingDown else { return }
        while true {
            ERR_clear_error()
            let discard = loop.tlsBuffers.plaintext
            let result = SSL_read(session.ssl, discard.baseAddress, Int32(clamping: discard.count))
            if flushOutgoing(after: result) || result > 0 { continue }
            switch SSL_get_error(session.ssl, result) {
            case SSL_ERROR_ZERO_RETURN:
                return shutdownComplete()
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            default:
                // A peer that breaks TLS while we close: nothing more to wait for.
                ERR_clear_error()
                return shutdownComplete()
            }
        }
    }

    private func shutdownComplete() {
        shutdownTimer?.cancel()
        shutdownTimer = nil
        ERR_clear_error()
        _ = SSL_shutdown(session.ssl)
        ERR_clear_error()
        flushOutgoing()
        underlying?.close()
    }

    private func shutdownTimedOut() {
        guard state == .shuttingDown else { return }
        lossError = TimeoutError("SSL shutdown timed out")
        underlying?.abort()
    }

    /// Closes the socket at once, sending nothing more.
    func abort() {
        closing = true
        underlying?.abort()
    }

    /// asyncio's `_fatal_error`: an `SSLError` is the peer's doing and is
    /// not reported; anything else goes to the exception handler. Either
    /// way the connection ends with it.
    private func failConnection(_ error: any Error, _ message: String) {
        if !(error is SSLError || error is SSLCertVerificationError) {
            loop.callExceptionHandler(ExceptionContext(message: message, error: error))
        }
        closing = true
        state = .lost
        pendingPlain = []
        pendingPlainBytes = 0
        // The socket transport reports `error` back through connectionLost;
        // abort ends it with no error, so pass it on from here.
        if appConnected, let application {
            self.application = nil
            application.connectionLost(error)
        }
        underlying?.abort()
    }
}
