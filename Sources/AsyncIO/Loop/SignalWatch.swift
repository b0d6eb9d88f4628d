#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The write end of the process's signal wake-up pipe: the C signal handler
/// writes the signal number there, which is all it may safely do. One loop
/// at a time owns it.
nonisolated(unsafe) private var signalWakeFD: Int32 = -1

/// The signal handler: async-signal-safe, it only writes one byte.
private let forwardSignal: @convention(c) (Int32) -> Void = { number in
    var byte = UInt8(truncatingIfNeeded: number)
    let saved = errno
    _ = write(signalWakeFD, &byte, 1)
    errno = saved
}

/// A loop's Unix signal state: the callback for each handled signal, and
/// the self-pipe the C handler writes the signal's number to, as asyncio's
/// wake-up fd. The pipe is open while at least one signal is handled.
struct SignalWatch {
    var handlers: [Int32: Handle] = [:]
    var pipe: (read: Int32, write: Int32)?
}

extension EventLoop {
    /// Starts delivering `signal` to `handle` on this loop.
    @LoopActor
    func watchSignal(_ signal: Int32, _ handle: Handle) throws {
        try openSignalPipe(for: signal)
        signals.handlers[signal] = handle
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        guard sigaction(signal, &action, nil) == 0 else {
            let error = errno
            unwatchSignal(signal)
            throw SignalError(signal: signal, reason: String(cString: strerror(error)))
        }
        // A process may start with the signal blocked (a parent's mask is
        // inherited); asking to handle it means wanting it delivered.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Restores the default action for `signal`; false if it was not watched.
    @LoopActor @discardableResult
    func unwatchSignal(_ signal: Int32) -> Bool {
        guard signals.handlers.removeValue(forKey: signal) != nil else { return false }
        Glibc.signal(signal, SIG_DFL)
        if signals.handlers.isEmpty { closeSignalPipe() }
        return true
    }

    /// Restores every signal this loop handles, when it closes.
    @LoopActor
    func unwatchAllSignals() {
        for signal in signals.handlers.keys { unwatchSignal(signal) }
    }

    @LoopActor
    private func openSignalPipe(for signal: Int32) throws {
        guard signals.pipe == nil else { return }
        guard signalWakeFD < 0 else {
            throw SignalError(signal: signal, reason: "another event loop already handles signals")
        }
        var fds: [Int32] = [0, 0]
        _ = try SystemCall.run("pipe2") { pipe2(&fds, O_NONBLOCK | O_CLOEXEC) }
        signals.pipe = (fds[0], fds[1])
        signalWakeFD = fds[1]
        try addReader(fds[0], label: "signals") { [self] in dispatchSignals() }
    }

    @LoopActor
    private func closeSignalPipe() {
        guard let (readFD, writeFD) = signals.pipe else { return }
        removeReader(readFD)
        signalWakeFD = -1
        SystemCall.close(readFD)
        SystemCall.close(writeFD)
        signals.pipe = nil
    }

    @LoopActor
    private func dispatchSignals() {
        guard let (readFD, _) = signals.pipe else { return }
        var numbers = [UInt8](repeating: 0, count: 64)
        let count = read(readFD, &numbers, numbers.count)
        guard count > 0 else { return }
        for number in numbers[..<count] {
            if let handle = signals.handlers[Int32(number)] {
                ready.append(.watch(handle))
            }
        }
    }
}
