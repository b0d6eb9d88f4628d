/// The transport a TLS connection's application protocol sees (asyncio's
/// `_SSLProtocolTransport`): plaintext in and out, the same calls as over
/// TCP except that TLS has no half-close.
@LoopActor
final class TLSAppTransport: Transport {
    let layer: TLSProtocol

    init(layer: TLSProtocol) { self.layer = layer }

    func write(_ data: [UInt8]) { layer.write(data) }

    func writelines(_ chunks: [[UInt8]]) {
        for chunk in chunks { layer.write(chunk) }
    }

    /// TLS cannot close one direction: reported, as asyncio's
    /// NotImplementedError, and the connection stays open.
    func writeEof() {
        layer.loop.callExceptionHandler(ExceptionContext(
            message: "writeEof() is not supported over SSL: TLS has no half-close; send an end marker or close()"))
    }

    func canWriteEof() -> Bool { false }

    func close() { layer.close() }

    func abort() { layer.abort() }

    var isClosing: Bool { layer.isClosing }

    /// asyncio's keys `peercert` (`PeerCertificate`), `cipher` (`SSLCipher`),
    /// `compression` (`String`, nil when none: always for TLS 1.3),
    /// `sslcontext` (`SSLContext`), `ssl_object` (`SSLObject`); also
    /// `selected_alpn_protocol` (`String`), and the socket transport's
    /// `peername`, `sockname`, `socket`.
    func getExtraInfo(_ name: String) -> Any? {
        switch name {
        case "peercert": layer.peerCertificate
        case "cipher": layer.cipher
        case "compression": layer.compression
        case "sslcontext": layer.context
        case "selected_alpn_protocol": layer.selectedALPN
        case "ssl_object": layer.sslObject
        default: layer.underlying?.getExtraInfo(name)
        }
    }

    func pauseReading() { layer.pauseReading() }

    func resumeReading() { layer.resumeReading() }

    var isReading: Bool { layer.isReading }

    func setWriteBufferLimits(high: Int?, low: Int?) { layer.setWriteBufferLimits(high: high, low: low) }

    var writeBufferSize: Int { layer.writeBufferSize }
}
