import AsyncIO

/// Runs `main` to completion on a new loop, then closes the loop, as the
/// chapter's scripts do with `get_event_loop()`, `run_until_complete()`
/// and `close()`.
func runUntilComplete(_ main: @escaping @LoopActor (EventLoop) async throws -> Void) throws {
    let loop = EventLoop()
    defer { try? loop.close() }
    try loop.runUntilComplete { try await main(loop) }
}
