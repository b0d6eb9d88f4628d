import AsyncIO

/// The synchronization workloads, defined exactly as `queue`, `lock` and
/// `event` in `scripts/bench/py_bench.py`.
extension Workloads {
    /// One producer puts 1,000,000 integers into a `Queue(maxsize: 100)`
    /// and then joins it; one consumer gets them all, marking each done.
    /// Both run as tasks, gathered. Returns items per second.
    public static func queue(count: Int = DefaultCount.queue) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let q = Queue<Int>(maxsize: 100)
            let start = loop.time()
            let producer = loop.createTask {
                for i in 0..<count { try await q.put(i) }
                try await q.join()
            }
            let consumer = loop.createTask {
                for _ in 0..<count {
                    _ = try await q.get()
                    try q.taskDone()
                }
            }
            _ = try await gather(producer, consumer)
            return Double(count) / (loop.time() - start)
        }
    }

    /// 100 tasks contend for one `Lock`, each taking it `count / 100`
    /// times with `withLock`, counting and yielding once (`sleep(0)`)
    /// while holding it, so the lock is handed from task to task.
    /// Returns acquisitions per second.
    public static func lock(count: Int = DefaultCount.lock, tasks: Int = 100) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let lock = Lock()
            let counter = Tally()
            let start = loop.time()
            let workers = (0..<tasks).map { _ in
                loop.createTask {
                    for _ in 0..<(count / tasks) {
                        try await lock.withLock {
                            counter.value += 1
                            try await sleep(0)
                        }
                    }
                }
            }
            _ = try await gather(workers)
            let elapsed = loop.time() - start
            precondition(counter.value == count, "lost acquisitions")
            return Double(count) / elapsed
        }
    }

    /// 100,000 tasks wait on one `Event`; once all are waiting, the clock
    /// runs from `set()` until the last of them has returned from `wait()`.
    /// Returns wake-ups per second.
    public static func event(count: Int = DefaultCount.event) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let event = Event()
            let woken = Counter(target: count, loop: loop)
            let waiters = (0..<count).map { _ in
                loop.createTask {
                    try await event.wait()
                    woken.tick()
                }
            }
            try await sleep(0)  // every waiter runs up to its wait()
            let start = loop.time()
            event.set()
            try await woken.done.value
            let elapsed = loop.time() - start
            _ = try await gather(waiters)
            return Double(count) / elapsed
        }
    }
}

@LoopActor
final class Tally {
    var value = 0
}
