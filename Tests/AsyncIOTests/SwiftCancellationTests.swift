import Testing
@testable import AsyncIO
import TestSupport

/// `withSwiftCancellation` hands a loop task's cancellation to Swift's own:
/// `Task.sleep`, cancellation handlers and `async let` children inside it
/// see it, and the scope throws `CancelledError` once its work has ended.
@Suite(.suiteLimit) struct SwiftCancellationTests {
    @LoopActor
    final class Seen {
        var sleepCancelled = false
        var handlerRan = false
        var childCancelled = false
    }

    @Test func cancellingTheLoopTaskCancelsTaskSleepInside() throws {
        let (outcome, sleepCancelled) = try runLoop { loop -> (String, Bool) in
            let seen = Seen()
            let task = loop.createTask {
                try await withSwiftCancellation {
                    do {
                        try await Task.sleep(for: .seconds(30))
                    } catch is CancellationError {
                        seen.sleepCancelled = true
                        throw CancellationError()
                    }
                }
            }
            try await sleep(0.01)
            task.cancel(message: "stop")
            do {
                try await task.value
                return ("returned", seen.sleepCancelled)
            } catch let error as CancelledError {
                return (error.message ?? "no message", seen.sleepCancelled)
            }
        }
        #expect(outcome == "stop")
        #expect(sleepCancelled)
    }

    @Test func timeoutAroundTheScopeReachesHandlersAndAsyncLetChildren() throws {
        let (timedOut, childCancelled, handlerRan) = try runLoop { _ -> (Bool, Bool, Bool) in
            let seen = Seen()
            do {
                try await timeout(0.01) {
                    try await withSwiftCancellation {
                        async let child: Void = { @LoopActor in
                            do { try await Task.sleep(for: .seconds(30)) } catch { seen.childCancelled = true }
                        }()
                        await withTaskCancellationHandler {
                            try? await Task.sleep(for: .seconds(30))
                        } onCancel: {
                            Task { @LoopActor in seen.handlerRan = true }
                        }
                        await child
                    }
                }
                return (false, seen.childCancelled, seen.handlerRan)
            } catch is TimeoutError {
                // The handler's report is a task of its own: let it run.
                try await yieldUntil { seen.handlerRan }
                return (true, seen.childCancelled, seen.handlerRan)
            }
        }
        #expect(timedOut)
        #expect(childCancelled)
        #expect(handlerRan)
    }

    @Test func theScopeReturnsAndThrowsWhatItsBodyDoes() throws {
        let (value, error) = try runLoop { _ -> (Int, Boom?) in
            let value = try await withSwiftCancellation { 7 }
            do {
                _ = try await withSwiftCancellation { () async throws -> Int in throw Boom() }
                return (value, nil)
            } catch let error as Boom {
                return (value, error)
            }
        }
        #expect(value == 7)
        #expect(error == Boom())
    }

    @Test func aLoopTaskThatCatchesTheCancellationGoesOnWithSwiftAwaits() throws {
        let finished = try runLoop { loop -> Bool in
            let task = loop.createTask { () async throws -> Bool in
                do {
                    try await withSwiftCancellation { try await Task.sleep(for: .seconds(30)) }
                } catch is CancelledError {
                    // asyncio lets a task go on after catching its cancellation;
                    // its own Swift task was never cancelled.
                }
                try await Task.sleep(for: .milliseconds(1))
                return !Task.isCancelled
            }
            try await sleep(0.01)
            task.cancel()
            return try await task.value
        }
        #expect(finished)
    }
}
