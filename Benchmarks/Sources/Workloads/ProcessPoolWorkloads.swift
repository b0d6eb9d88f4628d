import AsyncIO

extension Workloads {
    /// The function the `process_pool` workload runs in its workers.
    static let square = RemoteFunction<Int, Int>("square")

    /// The worker mode of asyncio-bench: a process pool's workers are
    /// asyncio-bench again, and must find `square` registered. Call it first
    /// thing in `main`; it returns at once unless this process is a worker.
    public static func serveAsProcessPoolWorkerIfAsked() {
        ProcessPoolExecutor.register(square.name) { (n: Int) in n * n }
        ProcessPoolExecutor.runWorkerIfRequested()
    }

    /// 20,000 calls of `square(i)` on a pool of 2 worker processes, all
    /// submitted at once and gathered; the clock runs from the first
    /// submission (the workers start then) until every result is in.
    /// Returns calls per second; throws if a result is wrong.
    public static func processPool(count: Int = 20_000, workers: Int = 2) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let pool = ProcessPoolExecutor(maxWorkers: workers)
            let start = loop.time()
            let futures = try (0..<count).map { try loop.runInExecutor(pool, square, $0) }
            let results = try await gather(futures)
            let elapsed = loop.time() - start
            await pool.shutdown()
            guard results == (0..<count).map({ $0 * $0 }) else { throw BenchmarkFailure(message: "wrong results") }
            return Double(count) / elapsed
        }
    }
}
