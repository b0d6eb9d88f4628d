import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO

/// Unix signals delivered to loop callbacks through the self-pipe.
@Suite(.serialized, .timeLimit(.minutes(1))) struct SignalTests {
    @Test func aHandledSignalRunsItsCallbackOnTheLoop() throws {
        let (received, removed, removedAgain) = try runLoop { loop -> (Int, Bool, Bool) in
            var received = 0
            let done = Future<Void>(loop: loop)
            try loop.addSignalHandler(SIGUSR1) {
                received += 1
                if received == 2, !done.isDone { try done.setResult(()) }
            }
            raise(SIGUSR1)
            raise(SIGUSR1)
            try await done.value
            let removed = loop.removeSignalHandler(SIGUSR1)
            return (received, removed, loop.removeSignalHandler(SIGUSR1))
        }
        // raise() delivers to this thread before it returns, so each
        // signal writes its own byte to the pipe.
        #expect(received == 2)
        #expect(removed)
        #expect(!removedAgain)
    }

    @Test func signalsThatCannotBeCaughtAreAnError() throws {
        let reasons = try runLoop { loop -> [String] in
            [SIGKILL, SIGSTOP, 0, 99].map { signal in
                do {
                    try loop.addSignalHandler(signal) {}
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
        }
        #expect(reasons == [
            "cannot handle signal 9: it cannot be caught", "cannot handle signal 19: it cannot be caught",
            "cannot handle signal 0: it cannot be caught", "cannot handle signal 99: it cannot be caught",
        ])
    }

    @Test func closingTheLoopRestoresTheDefaultAction() throws {
        let loop = EventLoop()
        try loop.withIsolation { try loop.addSignalHandler(SIGUSR2) {} }
        try loop.close()
        var action = sigaction()
        sigaction(SIGUSR2, nil, &action)
        #expect(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_DFL, to: Int.self))
        #expect(loop.withIsolation { loop.signals.pipe == nil })
    }
}
