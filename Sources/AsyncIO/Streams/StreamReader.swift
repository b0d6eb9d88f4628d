/// Bytes arriving from a connection, read with coroutines (asyncio's
/// `StreamReader`). When more than twice `limit` bytes wait unread, the
/// transport stops reading until the buffer drains.
@LoopActor
public final class StreamReader {
    /// The default line and separator limit, 64 KiB.
    public static let defaultLimit = 64 * 1024

    public let limit: Int
    private let loop: EventLoop
    private var buffer: [UInt8] = []
    /// Bytes at the front of `buffer` already handed out.
    private var start = 0
    private var eof = false
    private var failure: (any Error)?
    private var waiter: Future<Void>?
    private var transport: (any Transport)?
    private var transportPaused = false

    public init(limit: Int = StreamReader.defaultLimit, loop: EventLoop? = nil) {
        precondition(limit > 0, "limit must be positive")
        self.limit = limit
        self.loop = loop ?? runningLoop()
    }

    private var buffered: Int { buffer.count - start }

    // MARK: Feeding (from the protocol)

    func setTransport(_ transport: any Transport) {
        self.transport = transport
    }

    public func feedData(_ data: [UInt8]) {
        precondition(!eof, "feedData after feedEof")
        guard !data.isEmpty else { return }
        if buffered == 0 {
            // Nothing unread: adopt the bytes instead of copying them.
            buffer = data
            start = 0
        } else {
            buffer += data
        }
        wakeWaiter()
        if let transport, !transportPaused, buffered > 2 * limit {
            transport.pauseReading()
            transportPaused = true
        }
    }

    public func feedEof() {
        eof = true
        wakeWaiter()
    }

    public func setException(_ error: any Error) {
        failure = error
        if let waiter, !waiter.isDone { try? waiter.setException(error) }
        waiter = nil
    }

    /// The error the connection failed with, if it did.
    public var exception: (any Error)? { failure }

    /// The stream has ended and every byte was read.
    public var atEof: Bool { eof && buffered == 0 }

    private func wakeWaiter() {
        if let waiter, !waiter.isDone { try? waiter.setResult(()) }
        waiter = nil
    }

    private func waitForData() async throws {
        if let failure { throw failure }
        precondition(waiter == nil, "another coroutine is already waiting for incoming data")
        if transportPaused {
            transportPaused = false
            transport?.resumeReading()
        }
        let waiter = Future<Void>(loop: loop)
        self.waiter = waiter
        defer { self.waiter = nil }
        try await waiter.value
    }

    /// Hands out `count` bytes from the front of the buffer.
    private func take(_ count: Int) -> [UInt8] {
        if start == 0, count == buffer.count {
            // Everything, from the front: hand over the storage itself.
            let bytes = buffer
            buffer = []
            resumeTransportIfDrained()
            return bytes
        }
        let bytes = Array(buffer[start..<start + count])
        start += count
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 64 * 1024, start > buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        resumeTransportIfDrained()
        return bytes
    }

    private func resumeTransportIfDrained() {
        if transportPaused, buffered <= limit {
            transportPaused = false
            transport?.resumeReading()
        }
    }

    // MARK: Reading

    /// Up to `count` bytes; with a negative count, everything up to EOF.
    /// Returns an empty array at EOF.
    public func read(_ count: Int = -1) async throws -> [UInt8] {
        if let failure { throw failure }
        if count == 0 { return [] }
        if count < 0 {
            while !eof { try await waitForData() }
            return take(buffered)
        }
        if buffered == 0, !eof { try await waitForData() }
        return take(min(count, buffered))
    }

    /// Exactly `count` bytes, or `IncompleteReadError` with what arrived
    /// before the stream ended.
    public func readexactly(_ count: Int) async throws -> [UInt8] {
        precondition(count >= 0, "readexactly size can not be less than zero")
        if let failure { throw failure }
        while buffered < count {
            if eof { throw IncompleteReadError(partial: take(buffered), expected: count) }
            try await waitForData()
        }
        return take(count)
    }

    /// One line, ending with `\n`, or what is left at EOF.
    public func readline() async throws -> [UInt8] {
        do {
            return try await readuntil([UInt8(ascii: "\n")])
        } catch let error as IncompleteReadError {
            return error.partial
        }
    }

    /// Bytes up to and including `separator`. At EOF without it, throws
    /// `IncompleteReadError`; if it is not within `limit` bytes, throws
    /// `LimitOverrunError` and leaves the data in the buffer.
    public func readuntil(_ separator: [UInt8] = [UInt8(ascii: "\n")]) async throws -> [UInt8] {
        precondition(!separator.isEmpty, "Separator should be at least one-byte string")
        if let failure { throw failure }
        var searched = 0
        while true {
            if let end = find(separator, from: searched) {
                let separatorStart = end - separator.count - start
                if separatorStart > limit {
                    throw LimitOverrunError(message: "Separator is found, but chunk is longer than limit",
                                            consumed: separatorStart)
                }
                return take(end - start)
            }
            searched = max(0, buffered - separator.count + 1)
            if searched > limit {
                throw LimitOverrunError(message: "Separator is not found, and chunk exceed the limit", consumed: searched)
            }
            if eof { throw IncompleteReadError(partial: take(buffered), expected: nil) }
            try await waitForData()
        }
    }

    /// The buffer index just past the first `separator` at or after
    /// `offset` bytes into the unread data.
    private func find(_ separator: [UInt8], from offset: Int) -> Int? {
        guard buffered >= separator.count else { return nil }
        let last = buffer.count - separator.count
        var index = start + offset
        while index <= last {
            if buffer[index] == separator[0], buffer[index..<index + separator.count].elementsEqual(separator) {
                return index + separator.count
            }
            index += 1
        }
        return nil
    }

    /// The lines of the stream, as `async for line in reader`.
    public var lines: Lines { Lines(reader: self) }

    public struct Lines: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let reader: StreamReader

        public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

        public struct Iterator: AsyncIteratorProtocol {
            let reader: StreamReader
            public mutating func next() async throws -> [UInt8]? {
                let line = try await reader.readline()
                return line.isEmpty ? nil : line
            }
        }
    }
}
