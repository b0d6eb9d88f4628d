#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `StreamWriter.drain` waits on (asyncio's `FlowControlMixin`): shut
/// while the transport is paused over its high-water mark, open again when
/// it resumes, failing once the connection is lost. `closed` completes
/// when the connection ends, for `waitClosed`.
@LoopActor
final class DrainGate {
    private let loop: EventLoop
    /// The error `drain` reports after the loss: ECONNRESET for a
    /// connection, EPIPE for a pipe to a child.
    private let lostError: OSError
    private var paused = false
    private(set) var isConnectionLost = false
    private var waiters: [Future<Void>] = []
    let closed: Future<Void>

    init(loop: EventLoop, lostError: OSError = OSError(errno: ECONNRESET, operation: "Connection lost")) {
        self.loop = loop
        self.lostError = lostError
        closed = Future(loop: loop)
    }

    func pause() { paused = true }

    func resume() {
        paused = false
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(()) }
        waiters = []
    }

    func connectionLost(_ error: (any Error)?) {
        isConnectionLost = true
        for waiter in waiters where !waiter.isDone {
            if let error { try? waiter.setException(error) } else { try? waiter.setResult(()) }
        }
        waiters = []
        if !closed.isDone {
            if let error {
                try? closed.setException(error)
                // Awaiting `waitClosed` is optional: a connection that was
                // reset is no error nobody saw, as asyncio's streams agree.
                closed.errorRetrieved()
            } else {
                try? closed.setResult(())
            }
        }
    }

    /// Waits while the transport's buffer is over its high-water mark.
    func wait() async throws {
        if isConnectionLost { throw lostError }
        guard paused else { return }
        let waiter = Future<Void>(loop: loop)
        waiters.append(waiter)
        try await waiter.value
    }
}
