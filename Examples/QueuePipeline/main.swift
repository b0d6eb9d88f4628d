// A pipeline: a producer feeds numbers through a bounded queue to three
// workers. It is run three times, stopped three ways: `join` and then
// cancelling the workers (asyncio's classic pattern), `shutdown` (Python
// 3.13), and a timeout around a task group that cancels everything.
//
//     swift run QueuePipeline

import AsyncIO

/// Results, shared by the workers of one run: the loop runs one task at a
/// time, so they can share it without a lock.
@LoopActor
final class Tally {
    var sum = 0
    var count = 0
}

@LoopActor
func produce(_ numbers: some Sequence<Int>, into queue: Queue<Int>) async throws {
    for number in numbers {
        try await queue.put(number)   // waits while the queue is full
    }
}

/// Squares numbers from the queue until it is cancelled (and says so) or
/// the queue is shut down (and returns).
@LoopActor
func work(_ name: String, queue: Queue<Int>, tally: Tally) async throws {
    do {
        while true {
            let number = try await queue.get()
            try await sleep(0.001)       // the work
            tally.sum += number * number
            tally.count += 1
            try queue.taskDone()
        }
    } catch let cancelled as CancelledError {
        print("  \(name): cancelled")
        throw cancelled                  // re-thrown, so the task ends cancelled: gather and timeout rely on it
    } catch is QueueShutDown {
        return                           // get() on a shut-down, empty queue
    }
}

func endedCancelled(_ outcome: Result<Void, any Error>) -> Bool {
    if case .failure(let error) = outcome { error is CancelledError } else { false }
}

@LoopActor
func startWorkers(_ queue: Queue<Int>, _ tally: Tally) -> [LoopTask<Void>] {
    (1...3).map { index in
        createTask(name: "worker-\(index)") { try await work("worker-\(index)", queue: queue, tally: tally) }
    }
}

try run {
    print("join, then cancel the workers:")
    do {
        let queue = Queue<Int>(maxsize: 4)
        let tally = Tally()
        let workers = startWorkers(queue, tally)
        try await produce(1...20, into: queue)
        try await queue.join()           // every item taken and marked done
        for worker in workers { worker.cancel() }
        let outcomes = try await gather(workers, returnExceptions: true)
        let cancelled = outcomes.filter(endedCancelled).count
        print("  \(tally.count) squares, sum \(tally.sum); \(cancelled) workers ended cancelled")
    }

    print("shut the queue down:")
    do {
        let queue = Queue<Int>(maxsize: 4)
        let tally = Tally()
        let workers = startWorkers(queue, tally)
        try await produce(1...20, into: queue)
        queue.shutdown()                 // no more puts; the workers take what is left, then get() throws
        _ = try await gather(workers)    // each returns once the queue is empty
        print("  \(tally.count) squares, sum \(tally.sum); \(workers.count) workers returned")
    }

    print("a timeout around an endless pipeline:")
    let tally = Tally()
    do {
        try await timeout(0.2) {
            try await withLoopTaskGroup { group in
                let queue = Queue<Int>(maxsize: 4)
                group.createTask(name: "producer") {
                    do {
                        try await produce(1..., into: queue)
                    } catch let cancelled as CancelledError {
                        print("  producer: cancelled")
                        throw cancelled
                    }
                }
                for index in 1...3 {
                    group.createTask(name: "worker-\(index)") {
                        try await work("worker-\(index)", queue: queue, tally: tally)
                    }
                }
            }
        }
    } catch is TimeoutError {
        print("  TimeoutError after 0.2 s;", tally.count > 0 ? "squares were made" : "nothing was made")
    }
}
