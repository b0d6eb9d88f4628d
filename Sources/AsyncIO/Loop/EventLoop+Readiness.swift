import CLinux

/// Callbacks waiting for a file descriptor to become readable or writable.
struct FDWatch {
    var reader: Handle?
    var writer: Handle?

    var events: UInt32 {
        (reader == nil ? 0 : EPOLLIN.rawValue) | (writer == nil ? 0 : EPOLLOUT.rawValue)
    }
}

extension EventLoop {
    /// Calls `callback` whenever `fd` is readable, until `removeReader`;
    /// replaces an earlier reader of the same descriptor (asyncio's `add_reader`).
    @LoopActor
    public func addReader(_ fd: Int32, label: String = "reader",
                          _ callback: @escaping @LoopActor () throws -> Void) throws(OSError) {
        try watch(fd, \.reader, Handle.make(label: label, callback))
    }

    /// Stops watching `fd` for reading; returns whether it was watched.
    @LoopActor @discardableResult
    public func removeReader(_ fd: Int32) -> Bool {
        unwatch(fd, \.reader)
    }

    /// Calls `callback` whenever `fd` is writable, until `removeWriter`
    /// (asyncio's `add_writer`).
    @LoopActor
    public func addWriter(_ fd: Int32, label: String = "writer",
                          _ callback: @escaping @LoopActor () throws -> Void) throws(OSError) {
        try watch(fd, \.writer, Handle.make(label: label, callback))
    }

    /// Stops watching `fd` for writing; returns whether it was watched.
    @LoopActor @discardableResult
    public func removeWriter(_ fd: Int32) -> Bool {
        unwatch(fd, \.writer)
    }

    /// Sets one side (reader or writer) of the watch on `fd`.
    @LoopActor
    private func watch(_ fd: Int32, _ side: WritableKeyPath<FDWatch, Handle?>, _ handle: Handle) throws(OSError) {
        checkOpen()
        let replaced = watches[fd]?[keyPath: side]
        try updateWatch(fd) { $0[keyPath: side] = handle }
        // As asyncio: a replaced callback never runs again, even if its
        // descriptor was already reported ready this iteration.
        replaced?.cancel()
    }

    /// Cancels and clears one side of the watch on `fd`, if set.
    @LoopActor
    private func unwatch(_ fd: Int32, _ side: WritableKeyPath<FDWatch, Handle?>) -> Bool {
        guard let handle = watches[fd]?[keyPath: side] else { return false }
        handle.cancel()
        try? updateWatch(fd) { $0[keyPath: side] = nil }
        return true
    }

    @LoopActor
    private func updateWatch(_ fd: Int32, _ change: (inout FDWatch) -> Void) throws(OSError) {
        var watch = watches[fd] ?? FDWatch()
        let before = watch.events
        change(&watch)
        try selector.update(fd: fd, from: before, to: watch.events)
        watches[fd] = (watch.reader == nil && watch.writer == nil) ? nil : watch
    }

    /// Queues the callbacks of a descriptor epoll reported ready. Errors
    /// and hang-ups wake both sides, so each finds out on its next call.
    @LoopActor
    func descriptorReady(_ fd: Int32, events: UInt32) {
        guard let watch = watches[fd] else { return }
        let failed = events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
        if let instruments {
            let readable = watch.reader != nil && (failed || events & EPOLLIN.rawValue != 0)
            let writable = watch.writer != nil && (failed || events & EPOLLOUT.rawValue != 0)
            for instrument in instruments { instrument.descriptorReady(fd, readable: readable, writable: writable) }
        }
        if let reader = watch.reader, failed || events & EPOLLIN.rawValue != 0 {
            ready.append(.watch(reader))
        }
        if let writer = watch.writer, failed || events & EPOLLOUT.rawValue != 0 {
            ready.append(.watch(writer))
        }
    }
}
