#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DequeModule

/// Bytes a transport could not send yet, oldest first, sent with
/// scatter-gather writes. Chunks are kept as written (no copying into one
/// buffer); `sentFromHead` bytes of the first already went out.
struct WriteQueue {
    private var chunks = Deque<[UInt8]>()
    private var sentFromHead = 0
    /// Bytes waiting, as `get_write_buffer_size()` reports them.
    private(set) var byteCount = 0
    /// The most bytes waiting since the queue was last empty.
    private(set) var peak = 0

    /// At most this many chunks go into one `sendmsg`/`writev`.
    static let maxVectors = 64

    var isEmpty: Bool { chunks.isEmpty }

    mutating func append(_ chunk: [UInt8]) {
        chunks.append(chunk)
        byteCount += chunk.count
        peak = max(peak, byteCount)
    }

    /// Queues the rest of a chunk whose first `sent` bytes went out, without
    /// copying it; only into an empty queue.
    mutating func append(_ chunk: [UInt8], sent: Int) {
        precondition(chunks.isEmpty, "a partly sent chunk must be first")
        chunks.append(chunk)
        sentFromHead = sent
        byteCount = chunk.count - sent
        peak = max(peak, byteCount)
    }

    mutating func removeAll() {
        chunks.removeAll()
        sentFromHead = 0
        byteCount = 0
    }

    /// Forgets the peak, returning it.
    mutating func takePeak() -> Int {
        defer { peak = byteCount }
        return peak
    }

    /// Calls `body` with iovecs for the first chunks, pinned while it runs.
    func withVectors<R>(_ body: (UnsafeMutableBufferPointer<iovec>) -> R) -> R {
        let first = chunks.prefix(Self.maxVectors)
        var vectors: [iovec] = []
        vectors.reserveCapacity(first.count)
        return Self.withVectors(first[...], skipping: sentFromHead, into: &vectors, body)
    }

    private static func withVectors<R>(_ chunks: Slice<Deque<[UInt8]>>, skipping offset: Int, into vectors: inout [iovec],
                                       _ body: (UnsafeMutableBufferPointer<iovec>) -> R) -> R {
        guard let first = chunks.first else {
            return vectors.withUnsafeMutableBufferPointer { body($0) }
        }
        return first.withUnsafeBytes { bytes in
            let start = bytes.baseAddress!.advanced(by: offset)
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: start), iov_len: bytes.count - offset))
            return withVectors(chunks.dropFirst(), skipping: 0, into: &vectors, body)
        }
    }

    /// Drops `count` sent bytes from the front.
    mutating func consume(_ count: Int) {
        var remaining = count
        byteCount -= count
        while remaining > 0, let head = chunks.first {
            let left = head.count - sentFromHead
            if remaining >= left {
                chunks.removeFirst()
                sentFromHead = 0
                remaining -= left
            } else {
                sentFromHead += remaining
                remaining = 0
            }
        }
    }
}
