/// The future behind `gather`: done when every child is, or at the first
/// error. Cancelling it cancels the children (asyncio's `_GatheringFuture`).
/// `collect` appends each finished child's element of the result. The
/// children keep their own type, so an array of tasks is not copied into
/// an array of futures (with a retain and later a release of each).
@LoopActor @usableFromInline
final class GatheringFuture<Child: FutureCore, Element: Sendable>: Future<[Element]> {
    /// Fills the result from the children: built by the inlinable `gather`
    /// functions, so it is specialized in the caller's module (in this
    /// class's unspecialized code, each append would look up
    /// `Array<Element>`'s metadata, a third of a microsecond per child).
    @usableFromInline typealias Collect = (_ children: [Child], _ into: inout [Element]) -> Void

    private let children: [Child]
    private let returnExceptions: Bool
    private let collect: Collect
    /// Reserved at the start: a large allocation at the end, after many
    /// children were freed, makes malloc consolidate all their memory first.
    private var collected: [Element] = []
    private var finishedCount = 0
    private var cancelRequested = false

    @usableFromInline
    init(_ children: [Child], returnExceptions: Bool, loop: EventLoop, collect: @escaping Collect) {
        self.children = children
        self.returnExceptions = returnExceptions
        self.collect = collect
        super.init(loop: loop)
        if children.isEmpty {
            succeed([])
            return
        }
        collected.reserveCapacity(children.count)
        for child in children {
            child.addCoreDoneCallback { child in self.childDone(child) }
        }
    }

    /// Runs once per child, so it only uses what does not depend on `T`:
    /// unspecialized generic code looks up type metadata at every use.
    private func childDone(_ child: FutureCore) {
        finishedCount += 1
        guard !isDone else {
            // Too late to matter, but not a hidden failure: asyncio marks
            // it retrieved too.
            _ = try? child.exception()
            return
        }
        if !returnExceptions {
            if child.isCancelled {
                // The child's own error, with its cancel message, as asyncio's.
                try? setException(child.error ?? CancelledError())
                return
            }
            if let error = try? child.exception() {
                try? setException(error)
                return
            }
        }
        guard finishedCount == children.count else { return }
        if cancelRequested {
            // Every child was asked to cancel; the gather itself was. What
            // they failed with goes nowhere, as in asyncio.
            for child in children { _ = try? child.exception() }
            try? setException(child.isCancelled ? child.error ?? CancelledError() : CancelledError())
        } else {
            collect(children, &collected)
            succeed(collected)
            collected = []
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
/// Inlinable, so that it is specialized for the caller's result type.
@LoopActor @inlinable
public func gather<T: Sendable, Child: Future<T>>(_ futures: [Child]) async throws -> [T] {
    // Reached only when every child succeeded.
    try await GatheringFuture(futures, returnExceptions: false, loop: runningLoop()) { children, results in
        for child in children { results.append(try! child.result()) }
    }.value
}

@LoopActor
public func gather<T: Sendable>(_ futures: Future<T>...) async throws -> [T] {
    try await gather(futures)
}

/// `gather(..., return_exceptions=True)`: errors, cancellation included,
/// are returned in place of results instead of thrown.
@LoopActor @inlinable
public func gather<T: Sendable, Child: Future<T>>(
    _ futures: [Child], returnExceptions: Bool
) async throws -> [Result<T, any Error>] {
    try await GatheringFuture(futures, returnExceptions: returnExceptions, loop: runningLoop()) { children, results in
        for child in children { results.append(Result { try child.result() }) }
    }.value
}

/// Waits for futures of different types and returns their results as a
/// tuple, in argument order (`let (n, s) = try await gather(intTask, textTask)`),
/// with `gather`'s rules for errors and cancellation. Disfavoured, so
/// that futures of one type still gather into an array.
@LoopActor @_disfavoredOverload
public func gather<First: Sendable, Second: Sendable, each Rest: Sendable>(
    _ first: Future<First>, _ second: Future<Second>, _ rest: repeat Future<each Rest>
) async throws -> (First, Second, repeat each Rest) {
    var children: [FutureCore] = [first, second]
    repeat children.append(each rest)
    // Reached only when every child succeeded; the results are read below.
    _ = try await GatheringFuture<FutureCore, Never>(children, returnExceptions: false, loop: runningLoop()) { _, _ in }.value
    return (try first.result(), try second.result(), repeat try (each rest).result())
}
