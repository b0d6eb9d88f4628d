extension EventLoop {
    /// Runs loop-bound code on the calling thread while the loop is not
    /// running: for example to create tasks before `runUntilComplete`, as an
    /// asyncio program does between `new_event_loop()` and running it.
    @discardableResult
    public func withIsolation<T>(_ body: @LoopActor () throws -> T) rethrows -> T {
        precondition(state != .running || ThreadLoop.current === self,
                     "the loop is running on another thread")
        precondition(ThreadLoop.current == nil || ThreadLoop.current === self,
                     "another loop is running on this thread")
        return try LoopActor.withLoop(self, body)
    }
}

/// Runs `main` on a new event loop and returns its result, then cancels the
/// tasks it left behind, shuts the default executor down and closes the
/// loop (asyncio's `asyncio.run`). `debug` sets the loop's debug mode; nil
/// leaves it to the environment (`ASYNCIO_DEBUG`).
public func run<T: Sendable>(
    debug: Bool? = nil, fileID: StaticString = #fileID, line: UInt = #line,
    _ main: @escaping @LoopActor () async throws -> T
) throws -> T {
    let loop = EventLoop()
    if let debug { loop.debug = debug }
    defer {
        cancelRemainingTasks(loop)
        _ = try? loop.runUntilComplete { await loop.shutdownDefaultExecutor() }
        try? loop.close()
    }
    return try loop.runUntilComplete(fileID: fileID, line: line, main)
}

/// Cancels every task still pending and runs the loop until they have all
/// finished, as `asyncio.run` does before closing.
private func cancelRemainingTasks(_ loop: EventLoop) {
    let leftover = loop.withIsolation { () -> [any AnyLoopTask] in
        let tasks = loop.allTasks()
        for task in tasks { task.cancel(message: nil) }
        return tasks
    }
    guard !leftover.isEmpty else { return }
    _ = try? loop.runUntilComplete {
        for task in leftover { try? await task.waitUntilDone() }
    }
}
