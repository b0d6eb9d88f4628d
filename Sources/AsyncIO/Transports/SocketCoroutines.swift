/// asyncio's low-level socket coroutines over non-blocking descriptors.
extension EventLoop {
    /// Reads up to `count` bytes; an empty result means end of stream.
    @LoopActor
    public func sockRecv(_ fd: Int32, _ count: Int) async throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let received = try await sockRecvInto(fd, &buffer)
        buffer.removeLast(count - received)
        return buffer
    }

    /// Reads into `buffer`; returns how many bytes arrived (0 at end of stream).
    @LoopActor
    public func sockRecvInto(_ fd: Int32, _ buffer: inout [UInt8]) async throws -> Int {
        while true {
            let result = try buffer.withUnsafeMutableBytes { bytes throws(OSError) in try Socket.receive(fd, into: bytes) }
            if case .processed(let count) = result { return count }
            try await waitUntilReadable(fd)
        }
    }

    /// Sends all of `data`, waiting for room as often as needed.
    @LoopActor
    public func sockSendall(_ fd: Int32, _ data: [UInt8]) async throws {
        var offset = 0
        while offset < data.count {
            let result = try data.withUnsafeBytes { bytes throws(OSError) in
                try Socket.send(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            if case .processed(let sent) = result { offset += sent } else { try await waitUntilWritable(fd) }
        }
    }

    /// Accepts a connection on listening socket `fd`.
    @LoopActor
    public func sockAccept(_ fd: Int32) async throws -> (fd: Int32, address: SocketAddress) {
        while true {
            if case .processed(let accepted) = try Socket.accept(fd) { return accepted }
            try await waitUntilReadable(fd)
        }
    }

    /// Connects non-blocking socket `fd` to `address`.
    @LoopActor
    public func sockConnect(_ fd: Int32, _ address: SocketAddress) async throws {
        if try Socket.connect(fd, to: address) { return }
        try await waitUntilWritable(fd)
        let error = Socket.pendingError(fd)
        if error != 0 { throw OSError(errno: error, operation: "connect to \(address)") }
    }

    @LoopActor
    func waitUntilReadable(_ fd: Int32) async throws {
        let ready = Future<Void>(loop: self)
        try addReader(fd, label: "sock wait") { if !ready.isDone { try ready.setResult(()) } }
        defer { removeReader(fd) }
        try await ready.value
    }

    @LoopActor
    func waitUntilWritable(_ fd: Int32) async throws {
        let ready = Future<Void>(loop: self)
        try addWriter(fd, label: "sock wait") { if !ready.isDone { try ready.setResult(()) } }
        defer { removeWriter(fd) }
        try await ready.value
    }
}
