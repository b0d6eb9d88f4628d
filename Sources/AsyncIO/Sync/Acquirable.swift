/// A primitive taken with `acquire()` and given back with `release()`:
/// `Lock`, `Condition`, `Semaphore`, `BoundedSemaphore`. asyncio lets all
/// of them be used as `async with primitive:`; here that is `withLock`.
@LoopActor
public protocol Acquirable: AnyObject {
    /// Suspends until the primitive is taken by the current task; throws
    /// `CancelledError` if the task is cancelled meanwhile, in which case
    /// nothing was taken.
    func acquire() async throws
    /// Gives the primitive back, waking the next waiter in line.
    func release() throws
}

extension Acquirable {
    /// Runs `body` while holding the primitive (asyncio's `async with lock:`).
    /// The primitive is released however `body` ends: by returning, by
    /// throwing, or by being cancelled. If the body throws and the release
    /// fails too (the body already released it), the body's error is thrown.
    @inlinable
    public func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        let value: T
        do {
            value = try await body()
        } catch {
            try? release()
            throw error
        }
        try release()
        return value
    }
}
