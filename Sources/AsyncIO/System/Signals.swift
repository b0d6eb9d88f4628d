#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension EventLoop {
    /// Runs `callback` on the loop whenever the process receives `signal`
    /// (asyncio's `add_signal_handler`). The C handler only writes the
    /// signal number to a pipe the loop watches, as asyncio's wake-up fd does.
    @LoopActor
    public func addSignalHandler(_ signal: Int32, _ callback: @escaping @LoopActor () throws -> Void) throws {
        guard signal > 0, signal < NSIG else {
            throw SignalError(signal: signal, reason: "there is no such signal (signals are 1 to \(NSIG - 1))")
        }
        guard signal != SIGKILL, signal != SIGSTOP else {
            let reason = signal == SIGKILL ? "SIGKILL cannot be caught; handle SIGTERM instead"
                                           : "SIGSTOP cannot be caught; handle SIGTSTP instead"
            throw SignalError(signal: signal, reason: reason)
        }
        try watchSignal(signal, Handle.make(label: "signal \(signal)", callback))
    }

    /// Restores the default action for `signal`; returns whether a handler was set.
    @LoopActor @discardableResult
    public func removeSignalHandler(_ signal: Int32) -> Bool {
        unwatchSignal(signal)
    }
}
