import CLinux

/// A drained write backlog at least this large hands its memory back to
/// the system.
let releaseThreshold = 1 << 20

/// Returning the heap's free pages to the system, at most once a second.
///
/// A backlog of many buffers, once freed, stays in glibc's free lists as
/// scattered chunks the heap cannot shrink past, so without a trim a
/// server keeps the memory of its worst client for good. But a transport
/// that fills and drains a large backlog over and over (a bulk copy
/// through a pipe) would trim on every drain and fault the same pages
/// straight back in, which more than halves its throughput. So a drain
/// within a second of the last trim defers its trim to the end of that
/// second instead: the memory still goes back, once.
enum MemoryRelease {
    static let minimumInterval = 1.0
    /// When the process last trimmed, on the monotonic clock; trimming is
    /// process-wide, whichever loop asks.
    private static let lastTrim = Locked(-Double.infinity)

    /// Called by a transport whose large backlog has drained.
    @LoopActor
    static func request(on loop: EventLoop) {
        let now = monotonicSeconds()
        let wait = lastTrim.withLock { last -> Double in
            let wait = last + minimumInterval - now
            if wait <= 0 { last = now }
            return wait
        }
        guard wait > 0 else { return trim() }
        guard loop.deferredMemoryRelease == nil else { return }
        loop.deferredMemoryRelease = loop.callLater(wait, label: "release memory") {
            loop.deferredMemoryRelease = nil
            lastTrim.withLock { $0 = monotonicSeconds() }
            trim()
        }
    }

    private static func trim() {
        _ = clinux_release_free_memory()
    }
}
