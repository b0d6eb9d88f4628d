#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The child processes a loop waits for (asyncio's `PidfdChildWatcher`):
/// each child's pidfd is watched by the loop's epoll and turns readable
/// when the child ends, which is reaped at once. No thread and no SIGCHLD
/// handler, so several loops on several threads each wait for their own
/// children. Where pidfds are missing (Linux before 5.3) a thread per child
/// waits for it instead, as asyncio's `ThreadedChildWatcher` does: a
/// SIGCHLD handler would be process-wide, and only one loop can own it.
struct ChildWatcher {
    /// Each child's pidfd, or -1 when a thread waits for it.
    var children: [pid_t: Int32] = [:]
    /// What to call when a child a thread waits for ends. Kept here, not by
    /// the thread: a thread still running when the process exits would
    /// otherwise keep what the callback holds (a transport, its pipes).
    var threadWaitedExits: [pid_t: (watch: UInt64, exited: @LoopActor (Int32) -> Void)] = [:]
    /// Numbers each thread-waited child, so a late report about a reaped
    /// PID that a new child now has is not taken for the new one's.
    var watchCount: UInt64 = 0
    /// False to wait with a thread even where pidfds work (for tests, and
    /// under valgrind, which does not know pidfd_open).
    var usesPidfds = true
}

extension EventLoop {
    /// Calls `exited` with the child's return code once it ends; the child
    /// is reaped before, whatever `exited` does.
    @LoopActor
    func watchChild(_ pid: pid_t, _ exited: @escaping @Sendable @LoopActor (Int32) -> Void) {
        let pidfd = childWatcher.usesPidfds ? clinux_pidfd_open(pid) : -1
        if pidfd >= 0 {
            do {
                try addReader(pidfd, label: "child \(pid) exit") { [self] in
                    guard let code = Spawn.reap(pid, blocking: false) else { return }
                    forgetChild(pid)
                    exited(code)
                }
                childWatcher.children[pid] = pidfd
                return
            } catch {
                SystemCall.close(pidfd)
            }
        }
        childWatcher.watchCount += 1
        let watch = childWatcher.watchCount
        childWatcher.children[pid] = -1
        childWatcher.threadWaitedExits[pid] = (watch, exited)
        runDetached { [weak self] in
            let code = Spawn.reap(pid, blocking: true) ?? 255
            self?.callSoonThreadsafe { [weak self] in
                guard let self, let waited = childWatcher.threadWaitedExits[pid], waited.watch == watch else { return }
                childWatcher.children[pid] = nil
                childWatcher.threadWaitedExits[pid] = nil
                waited.exited(code)
            }
        }
    }

    @LoopActor
    private func forgetChild(_ pid: pid_t) {
        guard let pidfd = childWatcher.children.removeValue(forKey: pid), pidfd >= 0 else { return }
        removeReader(pidfd)
        SystemCall.close(pidfd)
    }

    /// Stops watching `pid`, which the runtime has told to stop (a process
    /// pool's worker whose stdin it closed as the loop closes): it is reaped
    /// in the background when it exits, without the warning `close()` gives
    /// a child it leaves running, and its `exited` callback never runs.
    @LoopActor
    func releaseChild(_ pid: pid_t) {
        guard let pidfd = childWatcher.children[pid] else { return }
        // Without a pidfd a thread already waits for it, and reaps it.
        guard pidfd >= 0 else { return }
        forgetChild(pid)
        runDetached { _ = Spawn.reap(pid, blocking: true) }
    }

    /// At `close()`: children still running are left running, as asyncio
    /// leaves them, and reaped in the background when they end, so none is
    /// left a zombie. Their `exited` callbacks never run.
    @LoopActor
    func orphanChildren() {
        guard !childWatcher.children.isEmpty else { return }
        for (pid, pidfd) in childWatcher.children where pidfd >= 0 {
            asyncioLogger.warning("Loop closed while child process \(pid) is running; it is left running and reaped when it exits")
            forgetChild(pid)
            runDetached { _ = Spawn.reap(pid, blocking: true) }
        }
        childWatcher.children.removeAll()
        childWatcher.threadWaitedExits.removeAll()
    }
}
