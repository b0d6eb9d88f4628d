/// When `wait` returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
public enum ReturnWhen: Sendable {
    case firstCompleted
    case firstException
    case allCompleted
}

/// Waits for the futures until `returnWhen` is satisfied or `timeout`
/// seconds pass, and returns them split into done and pending (asyncio's
/// `wait`). Both lists keep the order of `futures`. A timeout does not
/// cancel anything and does not throw.
@LoopActor
public func wait<F: AnyFuture>(
    _ futures: [F], timeout: Double? = nil, returnWhen: ReturnWhen = .allCompleted
) async throws -> (done: [F], pending: [F]) {
    precondition(!futures.isEmpty, "wait() needs at least one future")
    let futures = uniqued(futures)
    let loop = runningLoop()
    let waiter = Future<Void>(loop: loop)
    let release: @LoopActor () -> Void = { if !waiter.isDone { try? waiter.setResult(()) } }
    let timer = timeout.map { loop.callLater($0, label: "wait timeout", release) }
    var remaining = futures.count
    var tokens: [DoneCallbackToken] = []
    for future in futures {
        tokens.append(future.addDoneCallback(any: { [weak future] in
            remaining -= 1
            if remaining <= 0 || returnWhen == .firstCompleted
                || (returnWhen == .firstException && future?.failed == true) {
                release()
            }
        }))
    }
    defer {
        timer?.cancel()
        for (future, token) in zip(futures, tokens) { future.removeDoneCallback(token) }
    }
    try await waiter.value
    return (futures.filter(\.isDone), futures.filter { !$0.isDone })
}

/// `wait` for futures of different result types.
@LoopActor
public func wait(
    _ futures: [any AnyFuture], timeout: Double? = nil, returnWhen: ReturnWhen = .allCompleted
) async throws -> (done: [any AnyFuture], pending: [any AnyFuture]) {
    let boxes = futures.map(ErasedFuture.init)
    let (done, pending) = try await wait(boxes, timeout: timeout, returnWhen: returnWhen)
    return (done.map(\.base), pending.map(\.base))
}

/// Drops repeated futures, keeping first occurrences, as asyncio's set does.
@LoopActor
func uniqued<F: AnyFuture>(_ futures: [F]) -> [F] {
    var seen = Set<ObjectIdentifier>()
    return futures.filter { seen.insert(ObjectIdentifier($0)).inserted }
}

/// Lets an existential future stand where a concrete `AnyFuture` is needed.
@LoopActor
final class ErasedFuture: AnyFuture {
    let base: any AnyFuture
    init(_ base: any AnyFuture) { self.base = base }

    var loop: EventLoop { base.loop }
    var isDone: Bool { base.isDone }
    var isCancelled: Bool { base.isCancelled }
    func cancel(message: String?) -> Bool { base.cancel(message: message) }
    func exception() throws -> (any Error)? { try base.exception() }
    func addDoneCallback(any callback: @escaping @LoopActor () -> Void) -> DoneCallbackToken {
        base.addDoneCallback(any: callback)
    }
    func removeDoneCallback(_ token: DoneCallbackToken) -> Int { base.removeDoneCallback(token) }
    func waitUntilDone() async throws { try await base.waitUntilDone() }
    var repr: String { base.repr }
}
