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
