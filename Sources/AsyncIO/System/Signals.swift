#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The write end of the process's signal wake-up pipe: the C signal handler
/// writes the signal number there, which is all it may safely do.
nonisolated(unsafe) private var signalWakeFD: Int32 = -1

/// The signal handler: async-signal-safe, it only writes one byte.
private let forwardSignal: @convention(c) (Int32) -> Void = { number in
    var byte = UInt8(truncatingIfNeeded: number)
    let saved = errno
    _ = write(signalWakeFD, &byte, 1)
    errno = saved
}

/// An error from `addSignalHandler` (Python raises ValueError/RuntimeError).
public struct SignalError: Error, CustomStringConvertible {
    public var signal: Int32
    public var reason: String
    public var description: String { "cannot handle signal \(signal): \(reason)" }
}

extension EventLoop {
    /// Runs `callback` on the loop whenever the process receives `signal`
    /// (asyncio's `add_signal_handler`). The C handler only writes the
    /// signal number to a pipe the loop watches, as asyncio's wake-up fd does.
    @LoopActor
    public func addSignalHandler(_ signal: Int32, _ callback: @escaping @LoopActor () throws -> Void) throws {
        guard signal > 0, signal < 65, signal != SIGKILL, signal != SIGSTOP else {
            throw SignalError(signal: signal, reason: "it cannot be caught")
        }
        try openSignalPipe()
        signalHandlers[signal] = Handle(label: "signal \(signal)", callback)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        guard sigaction(signal, &action, nil) == 0 else {
            signalHandlers[signal] = nil
            throw SignalError(signal: signal, reason: String(cString: strerror(errno)))
        }
        // A process may start with the signal blocked (a parent's mask is
        // inherited); asking to handle it means wanting it delivered.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Restores the default action for `signal`; returns whether a handler was set.
    @LoopActor @discardableResult
    public func removeSignalHandler(_ signal: Int32) -> Bool {
        guard signalHandlers.removeValue(forKey: signal) != nil else { return false }
        Glibc.signal(signal, SIG_DFL)
        if signalHandlers.isEmpty { closeSignalPipe() }
        return true
    }

    @LoopActor
    private func openSignalPipe() throws {
        guard signalPipe == nil else { return }
        guard signalWakeFD < 0 else {
            throw SignalError(signal: 0, reason: "another event loop already handles signals")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw OSError(errno: errno, operation: "pipe") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        signalPipe = (fds[0], fds[1])
        signalWakeFD = fds[1]
        try addReader(fds[0], label: "signals") { [self] in dispatchSignals() }
    }

    @LoopActor
    private func closeSignalPipe() {
        guard let (readFD, writeFD) = signalPipe else { return }
        removeReader(readFD)
        signalWakeFD = -1
        SystemCall.close(readFD)
        SystemCall.close(writeFD)
        signalPipe = nil
    }

    @LoopActor
    private func dispatchSignals() {
        guard let (readFD, _) = signalPipe else { return }
        var numbers = [UInt8](repeating: 0, count: 64)
        let count = read(readFD, &numbers, numbers.count)
        guard count > 0 else { return }
        for number in numbers[..<count] {
            if let handle = signalHandlers[Int32(number)] {
                ready.append(.handle(handle))
            }
        }
    }
}
