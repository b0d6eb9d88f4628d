import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO

/// Unix signals delivered to loop callbacks through the self-pipe.
@Suite(.serialized, .suiteLimit) struct SignalTests {
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
        let (reasons, pipeOpened) = try runLoop { loop -> ([String], Bool) in
            let reasons = [SIGKILL, SIGSTOP, 0, 65].map { signal in
                do {
                    try loop.addSignalHandler(signal) {}
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
            return (reasons, loop.signals.pipe != nil)
        }
        #expect(reasons == [
            "cannot handle signal 9: SIGKILL cannot be caught; handle SIGTERM instead",
            "cannot handle signal 19: SIGSTOP cannot be caught; handle SIGTSTP instead",
            "cannot handle signal 0: there is no such signal (signals are 1 to 64)",
            "cannot handle signal 65: there is no such signal (signals are 1 to 64)",
        ])
        #expect(!pipeOpened)
    }

    /// The chapter's sequence, each signal sent to the process with kill()
    /// and the loop run until its handler has been called: one call per
    /// signal, in the order sent.
    @Test func theChaptersSequenceCallsEachHandlerInOrder() throws {
        let calls = try runLoop { loop -> [String] in
            let log = Log()
            let handled = [(SIGHUP, "SIGHUP"), (SIGUSR1, "SIGUSR1"), (SIGINT, "SIGINT")]
            for (signal, name) in handled { try loop.addSignalHandler(signal) { log(name) } }
            defer { for (signal, _) in handled { loop.removeSignalHandler(signal) } }
            for signal in [SIGHUP, SIGHUP, SIGUSR1, SIGINT] {
                let before = log.entries.count
                kill(getpid(), signal)
                try await yieldUntil { log.entries.count > before }
            }
            return log.entries
        }
        #expect(calls == ["SIGHUP", "SIGHUP", "SIGUSR1", "SIGINT"])
    }

    /// The kernel keeps at most one pending instance of a standard signal,
    /// so two sent while it is blocked make one call. Signals already
    /// delivered are not merged (two raise() calls make two calls, above):
    /// each writes its own byte to the pipe.
    @Test func identicalSignalsPendingTogetherMakeOneCall() throws {
        let calls = try runLoop { loop -> Int in
            var calls = 0
            try loop.addSignalHandler(SIGUSR1) { calls += 1 }
            defer { loop.removeSignalHandler(SIGUSR1) }
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            pthread_sigmask(SIG_BLOCK, &set, nil)
            pthread_kill(pthread_self(), SIGUSR1)
            pthread_kill(pthread_self(), SIGUSR1)
            // Delivers what is pending on this thread before it returns.
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            // One read of the pipe queues a callback per byte, so a second
            // call would run in the same iteration as the first.
            try await yieldUntil { calls > 0 }
            return calls
        }
        #expect(calls == 1)
    }

    /// Once removed, a signal has its default action again: SIGUSR1 ends
    /// the process, so this runs in a child and checks how it died.
    @Test func aRemovedHandlerLeavesTheDefaultAction() async {
        await #expect(processExitsWith: .signal(SIGUSR1)) {
            try runLoop { loop in
                try loop.addSignalHandler(SIGUSR1) {}
                loop.removeSignalHandler(SIGUSR1)
                kill(getpid(), SIGUSR1)
                // Only a disposition left behind lets the child get here
                // and exit 0 after the sleep.
                try await sleep(10)
            }
        }
    }

    /// Signals sent from another thread, to the loop's thread or to the
    /// whole process, reach their handlers on the loop.
    @Test func aSignalFromAnotherThreadReachesTheHandler() throws {
        let calls = try runLoop { loop -> [String] in
            let log = Log()
            try loop.addSignalHandler(SIGUSR1) { log("SIGUSR1") }
            try loop.addSignalHandler(SIGUSR2) { log("SIGUSR2") }
            defer { for signal in [SIGUSR1, SIGUSR2] { loop.removeSignalHandler(signal) } }
            let loopThread = pthread_self()
            runDetached {
                pthread_kill(loopThread, SIGUSR1)
                kill(getpid(), SIGUSR2)
            }
            try await yieldUntil { log.entries.count == 2 }
            return log.entries
        }
        // Two threads may take them, so either may be written to the pipe first.
        #expect(calls.sorted() == ["SIGUSR1", "SIGUSR2"])
    }

    @Test func aSignalFromAnotherProcessReachesTheHandler() throws {
        let (calls, killEnded) = try runLoop { loop -> ([String], Termination?) in
            let log = Log()
            try loop.addSignalHandler(SIGUSR1) { log("SIGUSR1") }
            defer { loop.removeSignalHandler(SIGUSR1) }
            let sender = try ChildProcess("/bin/kill", ["-USR1", "\(getpid())"])
            try await yieldUntil { !log.entries.isEmpty }
            return (log.entries, sender.wait(timeout: 10))
        }
        #expect(calls == ["SIGUSR1"])
        #expect(killEnded == .exited(0))
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
