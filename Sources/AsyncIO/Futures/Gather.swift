/// The future behind `gather`: done when every child is, or at the first
/// error. Cancelling it cancels the children (asyncio's `_GatheringFuture`).
@LoopActor
final class GatheringFuture<T: Sendable>: Future<[Result<T, any Error>]> {
    private let children: [Future<T>]
    private let returnExceptions: Bool
    private var finishedCount = 0
    private var cancelRequested = false

    init(_ children: [Future<T>], returnExceptions: Bool, loop: EventLoop) {
        self.children = children
        self.returnExceptions = returnExceptions
        super.init(loop: loop)
        if children.isEmpty {
            try? setResult([])
            return
        }
        for child in children {
            child.addDoneCallback { child in self.childDone(child) }
        }
    }

    private func childDone(_ child: Future<T>) {
        finishedCount += 1
        guard !isDone else { return }
        if !returnExceptions {
            if child.isCancelled {
                try? setException(CancelledError())
                return
            }
            if let error = try? child.exception() {
                try? setException(error)
                return
            }
        }
        guard finishedCount == children.count else { return }
        let results = children.map { child -> Result<T, any Error> in
            Result { try child.result() }
        }
        if cancelRequested {
            // Every child was asked to cancel; the gather itself was.
            try? setException(CancelledError())
        } else {
            try? setResult(results)
        }
    }

    override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        var cancelledAny = false
        for child in children where child.cancel(message: message) {
            cancelledAny = true
        }
        if cancelledAny { cancelRequested = true }
        return cancelledAny
    }
}

/// Waits for all the futures and returns their results in argument order
/// (asyncio's `gather`). The first error is thrown at once and the other
/// futures go on running. Cancelling the waiting task cancels them all.
@LoopActor
public func gather<T: Sendable>(_ futures: [Future<T>]) async throws -> [T] {
    try await gather(futures, returnExceptions: false).map { try $0.get() }
}

@LoopActor
public func gather<T: Sendable>(_ futures: Future<T>...) async throws -> [T] {
    try await gather(futures)
}

/// `gather(..., return_exceptions=True)`: errors, cancellation included,
/// are returned in place of results instead of thrown.
@LoopActor
public func gather<T: Sendable>(
    _ futures: [Future<T>], returnExceptions: Bool
) async throws -> [Result<T, any Error>] {
    try await GatheringFuture(futures, returnExceptions: returnExceptions, loop: runningLoop()).value
}
