import DequeModule

/// Datagrams a transport could not send yet, oldest first, each with its
/// destination (nil: the connected peer). Unlike a byte stream's queue,
/// nothing is ever sent in part: a datagram goes whole or waits.
struct DatagramQueue {
    /// What each datagram adds to `byteCount` beyond its payload, as CPython
    /// counts a UDP header, so a flood of empty datagrams still fills the
    /// buffer and pauses the protocol.
    static let headerSize = 8

    private var datagrams = Deque<(data: [UInt8], address: SocketAddress?)>()
    /// Bytes waiting, as `get_write_buffer_size()` reports them.
    private(set) var byteCount = 0

    var isEmpty: Bool { datagrams.isEmpty }
    var first: (data: [UInt8], address: SocketAddress?)? { datagrams.first }

    mutating func append(_ data: [UInt8], to address: SocketAddress?) {
        datagrams.append((data, address))
        byteCount += data.count + Self.headerSize
    }

    mutating func removeFirst() {
        let (data, _) = datagrams.removeFirst()
        byteCount -= data.count + Self.headerSize
    }

    mutating func removeAll() {
        datagrams.removeAll()
        byteCount = 0
    }
}
