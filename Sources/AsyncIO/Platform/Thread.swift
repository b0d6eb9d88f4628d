#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new detached thread: for blocking calls that must never
/// run on the loop thread. It hands its result back with `callSoonThreadsafe`.
func runDetached(_ body: @escaping @Sendable () -> Void) {
    final class Work {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let work = Unmanaged.passRetained(Work(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, work)
    if status != 0 {
        // No thread to be had: run it here rather than lose it.
        Unmanaged<Work>.fromOpaque(work).takeRetainedValue().body()
        return
    }
    pthread_detach(thread)
}
