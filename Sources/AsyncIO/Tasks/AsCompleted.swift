import DequeModule

/// The futures, each yielded as it finishes (asyncio's `as_completed`,
/// iterated as in Python 3.13: the finished future itself, whose `result()`
/// then returns at once). If `timeout` seconds pass first, iteration throws
/// `TimeoutError`.
@LoopActor
public func asCompleted<T: Sendable>(_ futures: [Future<T>], timeout: Double? = nil) -> AsCompleted<T> {
    AsCompleted(CompletionQueue(uniqued(futures), timeout: timeout, loop: runningLoop()))
}

public struct AsCompleted<T: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Future<T>
    let queue: CompletionQueue<T>

    init(_ queue: CompletionQueue<T>) { self.queue = queue }

    public func makeAsyncIterator() -> Iterator { Iterator(queue: queue) }

    public struct Iterator: AsyncIteratorProtocol {
        let queue: CompletionQueue<T>
        public mutating func next() async throws -> Future<T>? { try await queue.next() }
    }
}

/// Collects futures as they finish and hands them out in that order.
@LoopActor
final class CompletionQueue<T: Sendable> {
    private var done = Deque<Future<T>>()
    private var outstanding: Int
    private var timedOut = false
    private var wakeUp: Future<Void>?
    private var timer: TimerHandle?
    private let loop: EventLoop

    init(_ futures: [Future<T>], timeout: Double?, loop: EventLoop) {
        self.loop = loop
        outstanding = futures.count
        for future in futures {
            future.addDoneCallback { [weak self] future in self?.arrived(future) }
        }
        if let timeout, !futures.isEmpty {
            timer = loop.callLater(timeout, label: "as_completed timeout") { [weak self] in
                self?.timedOut = true
                self?.signal()
            }
        }
    }

    private func arrived(_ future: Future<T>) {
        guard !timedOut else { return }
        done.append(future)
        if done.count == outstanding { timer?.cancel() }
        signal()
    }

    private func signal() {
        if let wakeUp, !wakeUp.isDone { try? wakeUp.setResult(()) }
    }

    func next() async throws -> Future<T>? {
        while true {
            if let future = done.popFirst() {
                outstanding -= 1
                return future
            }
            if outstanding == 0 { return nil }
            if timedOut { throw TimeoutError() }
            let wakeUp = Future<Void>(loop: loop)
            self.wakeUp = wakeUp
            try await wakeUp.value
        }
    }
}
