@testable import AsyncIO

/// Runs `body` as the main task of a fresh loop, closes the loop, and
/// returns what the body returned.
func runLoop<T: Sendable>(_ body: @escaping @LoopActor (EventLoop) async throws -> T) throws -> T {
    let loop = EventLoop()
    defer { try? loop.close() }
    return try loop.runUntilComplete { try await body(loop) }
}

/// Collects events in the order they happen, from loop code.
@LoopActor
final class Log {
    private(set) var entries: [String] = []
    func callAsFunction(_ entry: String) { entries.append(entry) }
}

struct Boom: Error, Equatable {
    var tag = "boom"
}

/// Lets the loop run until `condition` holds, for events that come from
/// outside it (a signal, another thread or process). The timeout only turns
/// a hang into a failure; nothing is measured against it.
@LoopActor
func yieldUntil(timeout: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = runningLoop().time() + timeout
    while !condition() {
        guard runningLoop().time() < deadline else { throw TimeoutError() }
        try await sleep(0.001)
    }
}
