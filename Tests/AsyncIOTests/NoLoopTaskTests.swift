import Testing
@testable import AsyncIO

/// Scopes that need a loop task throw a typed error in a Swift child task
/// (an `async let`, a Swift task group's child), and work in a loop task.
@Suite struct NoLoopTaskTests {
    @Test func timeoutInAnAsyncLetChildThrowsNoLoopTaskError() throws {
        let outcome = try runLoop { _ -> String in
            async let child: Int = timeout(1) { 1 }
            do {
                _ = try await child
                return "returned"
            } catch let error as NoLoopTaskError {
                return error.description
            }
        }
        #expect(outcome.hasPrefix("timeout() must be used inside a loop task"))
    }

    @Test func taskGroupInASwiftTaskGroupChildThrowsNoLoopTaskError() throws {
        let scopes = try runLoop { _ -> [String] in
            await withTaskGroup(of: String.self) { group in
                group.addTask { await enterLoopTaskGroup() }
                var scopes: [String] = []
                for await scope in group { scopes.append(scope) }
                return scopes
            }
        }
        #expect(scopes == ["withLoopTaskGroup()"])
    }

    @Test func inALoopTaskTheScopesWork() throws {
        let value = try runLoop { loop -> Int in
            try await loop.createTask { try await timeout(1) { 2 } }.value
        }
        #expect(value == 2)
    }
}

/// The scope `withLoopTaskGroup` names in its error, or "entered".
@LoopActor
private func enterLoopTaskGroup() async -> String {
    do {
        try await withLoopTaskGroup { _ in }
        return "entered"
    } catch let error as NoLoopTaskError {
        return error.scope
    } catch {
        return "\(error)"
    }
}
