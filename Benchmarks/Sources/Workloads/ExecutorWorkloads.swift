import AsyncIO

extension Workloads {
    /// 20,000 `runInExecutor` calls on the default pool, each awaited
    /// before the next (after one warm-up call). Returns calls per second.
    public static func executorSequential(count: Int = 20_000) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            _ = try await loop.runInExecutor { 0 }.value
            let start = loop.time()
            for i in 0..<count {
                _ = try await loop.runInExecutor { i * i }.value
            }
            return Double(count) / (loop.time() - start)
        }
    }

    /// 100,000 `runInExecutor` calls submitted at once and gathered (after
    /// one warm-up call). Returns calls per second.
    public static func executorGather(count: Int = 100_000) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            _ = try await loop.runInExecutor { 0 }.value
            let start = loop.time()
            let futures = try (0..<count).map { i in try loop.runInExecutor { i * i } }
            _ = try await gather(futures)
            return Double(count) / (loop.time() - start)
        }
    }

    /// 20,000 `getaddrinfo("localhost", 443)` lookups one after another
    /// (after one warm-up lookup). Returns lookups per second.
    public static func getaddrinfo(count: Int = 20_000) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            _ = try await loop.getaddrinfo("localhost", 443)
            let start = loop.time()
            for _ in 0..<count {
                _ = try await loop.getaddrinfo("localhost", 443)
            }
            return Double(count) / (loop.time() - start)
        }
    }
}
