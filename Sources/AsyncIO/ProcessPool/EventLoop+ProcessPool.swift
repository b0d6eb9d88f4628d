extension EventLoop {
    /// Runs the function registered as `function` in a worker process of
    /// `executor`, with `argument`, and returns a future of its result,
    /// without blocking the loop (asyncio's `run_in_executor` with a
    /// `ProcessPoolExecutor`); await its `value`:
    ///
    /// ```swift
    /// let nine: Int = try await loop.runInExecutor(pool, "square", 3).value
    /// ```
    ///
    /// Throws at once `ExecutorShutdownError` after `shutdown`,
    /// `BrokenProcessPool` once a worker has died, an `EncodingError` for an
    /// argument JSON cannot hold, and `OSError` if no worker can be
    /// started. The future fails with `RemoteError` if the function threw,
    /// `ProcessPoolError.unknownFunction` if the workers have no such
    /// function, and `BrokenProcessPool` if a worker died before answering.
    /// Cancelling the future before the call was sent to a worker means it
    /// is never sent; once sent, it runs and its result is dropped.
    @LoopActor
    public func runInExecutor<Argument: Encodable, Result: Decodable & Sendable>(
        _ executor: ProcessPoolExecutor, _ function: String, _ argument: Argument,
        returning: Result.Type = Result.self
    ) throws -> Future<Result> {
        checkOpen()
        return try executor.submit(function, argument, on: self)
    }

    /// Runs a registered function in a worker process of `executor`; the
    /// result's type comes from the function (see `ProcessPoolExecutor.register`).
    @LoopActor
    public func runInExecutor<Argument, Result>(
        _ executor: ProcessPoolExecutor, _ function: RemoteFunction<Argument, Result>, _ argument: Argument
    ) throws -> Future<Result> {
        checkOpen()
        return try executor.submit(function.name, argument, on: self)
    }
}
