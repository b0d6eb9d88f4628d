import AsyncIO

/// Runs `main` to completion on a new loop, then closes the loop, as the
/// chapter's scripts do with `get_event_loop()`, `run_until_complete()`
/// and `close()`. Returns what `main` returned.
@discardableResult
func runUntilComplete<T: Sendable>(
    fileID: StaticString = #fileID, line: UInt = #line,
    _ main: @escaping @LoopActor (EventLoop) async throws -> T
) throws -> T {
    let loop = EventLoop()
    defer { try? loop.close() }
    return try loop.runUntilComplete(fileID: fileID, line: line) { try await main(loop) }
}
