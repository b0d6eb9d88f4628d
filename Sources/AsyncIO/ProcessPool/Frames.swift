#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The wire format between a process pool and its workers: frames, each a
/// little-endian `UInt32` length and that many bytes.
///
/// - Request (pool → worker's stdin): name length (`UInt32`), the
///   registered function's name in UTF-8, the argument as JSON.
/// - Response (worker's descriptor 3 → pool): a `ResponseStatus` byte,
///   then its payload. Responses come in the order of the requests, so
///   they carry no call number.
///
/// Frames are appended to one buffer and sent with one write per batch, on
/// both sides.
enum Frames {
    /// No frame is this large: a length past it means the stream is not a
    /// pool's (or is corrupt), which ends the worker or breaks the pool.
    static let maxLength = 1 << 30

    static func appendRequest(to buffer: inout [UInt8], function name: String, argument: some Collection<UInt8>) {
        let nameLength = name.utf8.count
        appendLength(4 + nameLength + argument.count, to: &buffer)
        appendLength(nameLength, to: &buffer)
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: argument)
    }

    static func appendResponse(to buffer: inout [UInt8], _ status: ResponseStatus, payload: some Collection<UInt8>) {
        appendLength(1 + payload.count, to: &buffer)
        buffer.append(status.rawValue)
        buffer.append(contentsOf: payload)
    }

    private static func appendLength(_ length: Int, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Splits a request frame's body into the function's name and the
    /// argument's bytes; nil if it is malformed.
    static func parseRequest(_ body: UnsafeRawBufferPointer) -> (name: String, argument: UnsafeRawBufferPointer)? {
        guard body.count >= 4 else { return nil }
        let nameLength = Int(UInt32(littleEndian: body.loadUnaligned(as: UInt32.self)))
        guard nameLength <= body.count - 4 else { return nil }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: body[4..<(4 + nameLength)]), as: UTF8.self)
        return (name, UnsafeRawBufferPointer(rebasing: body[(4 + nameLength)...]))
    }
}

/// What a response frame says about its call.
enum ResponseStatus: UInt8 {
    /// The function returned; the payload is its result as JSON.
    case value = 0
    /// The function threw; the payload is a `RemoteError` as JSON.
    case raised = 1
    /// No function of that name is registered in the worker; the payload
    /// is the name.
    case unknownFunction = 2
    /// The argument could not be decoded, or the result not encoded; the
    /// payload is why, in UTF-8.
    case codingFailed = 3
}

/// Bytes read from a pipe, cut into frames: a buffer that grows to hold
/// the largest frame and is compacted as frames are taken. One per reading
/// side, on one thread.
final class FrameBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    /// Unread bytes are `storage[start..<end]`.
    private var start = 0
    private var end = 0
    private let initialCapacity: Int

    init(capacity: Int = 64 * 1024) {
        initialCapacity = capacity
        storage = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// Room to read into, at least `minimum` bytes and enough for the
    /// whole of a frame whose header has arrived.
    func freeSpace(minimum: Int = 16 * 1024) -> UnsafeMutableRawBufferPointer {
        if end == 0, storage.count > max(initialCapacity, 1 << 20) {
            // Empty after a big frame: give the memory back.
            storage.deallocate()
            storage = .allocate(byteCount: initialCapacity, alignment: 8)
        }
        var needed = minimum
        if end - start >= 4 {
            let length = Int(UInt32(littleEndian: storage.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
            needed = max(needed, 4 + min(length, Frames.maxLength) - (end - start))
        }
        if storage.count - end < needed {
            if start > 0 {
                // Move the partial frame to the front: a memmove of at most one frame.
                let count = end - start
                if count > 0 { storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count) }
                start = 0
                end = count
            }
            if storage.count - end < needed {
                let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.count * 2, end + needed),
                                                                  alignment: 8)
                if end > 0 { grown.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end) }
                storage.deallocate()
                storage = grown
            }
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
    }

    /// `count` bytes were read into the last `freeSpace`.
    func didRead(_ count: Int) { end += count }

    /// Whether a frame longer than `Frames.maxLength` has been announced.
    var isCorrupt: Bool {
        end - start >= 4
            && Int(UInt32(littleEndian: storage.loadUnaligned(fromByteOffset: start, as: UInt32.self))) > Frames.maxLength
    }

    /// The body of the next whole frame, valid until the next `freeSpace`;
    /// nil when no whole frame is buffered.
    func nextFrame() -> UnsafeRawBufferPointer? {
        guard end - start >= 4, !isCorrupt else { return nil }
        let length = Int(UInt32(littleEndian: storage.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
        guard end - start - 4 >= length else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: storage[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        if start == end {
            // Empty: start over at the front, so the next read needs no memmove.
            start = 0
            end = 0
        }
        return body
    }
}
