extension EventLoop {
    // MARK: Running

    /// Runs until `stop()` is called (asyncio's `run_forever`).
    public func runForever() throws {
        try enterRun()
        defer { leaveRun() }
        LoopActor.assumeIsolated {
            while true {
                runOnce()
                if stopping { break }
            }
            stopping = false
        }
    }

    /// Runs the loop until `future` is done and returns its result or throws
    /// its error (asyncio's `run_until_complete`).
    public func runUntilComplete<T: Sendable>(_ future: Future<T>) throws -> T {
        try enterRun()
        defer { leaveRun() }
        return try LoopActor.assumeIsolated {
            precondition(future.loop === self, "the future belongs to another loop")
            return try runUntilDone(future)
        }
    }

    /// Runs `operation` as a task on this loop until it finishes and returns
    /// its result (asyncio's `run_until_complete(coroutine)`).
    public func runUntilComplete<T: Sendable>(
        name: String? = nil, fileID: StaticString = #fileID, line: UInt = #line,
        _ operation: @escaping @LoopActor () async throws -> T
    ) throws -> T {
        try enterRun()
        defer { leaveRun() }
        return try LoopActor.assumeIsolated {
            try runUntilDone(createTask(name: name, fileID: fileID, line: line, operation))
        }
    }

    @LoopActor
    private func runUntilDone<T>(_ future: Future<T>) throws -> T {
        if !future.isDone {
            let token = future.addDoneCallback { _ in self.stop() }
            defer { future.removeDoneCallback(token) }
            while true {
                runOnce()
                if stopping { break }
            }
            stopping = false
        }
        guard future.isDone else { throw EventLoopError.stoppedBeforeFutureCompleted }
        return try future.result()
    }

    /// Asks the loop to stop after the current iteration (asyncio's `stop`):
    /// callbacks already ready still run, anything they schedule waits.
    @LoopActor
    public func stop() { stopping = true }

    /// Closes the loop: drops pending callbacks and timers and releases the
    /// selector. Closing twice does nothing; closing a running loop throws.
    ///
    /// What is still open is ended first, as a garbage collector would end
    /// it in Python. Each task still pending is reported to the exception
    /// handler, as asyncio reports a pending task it destroys, then
    /// cancelled, and its steps run until it ends, as destroying a coroutine
    /// runs its `finally` blocks; each transport still connected is aborted
    /// and its protocol gets `connectionLost`; each server still listening
    /// is closed. A suspended Swift task, or a transport and protocol that
    /// hold each other, could not be freed otherwise. Only work already ready runs meanwhile: the loop never
    /// waits for I/O or timers while closing.
    public func close() throws {
        switch state {
        case .running: throw EventLoopError.closeWhileRunning
        case .closed: return
        case .idle: break
        }
        try endWhatIsOpen()
        state = .closed
        // What was queued is freed here, outside the queue and the inbox
        // lock: freeing it may run code that schedules more (and is refused).
        _ = ready.takeAll()
        watches.removeAll()
        _ = inbox.withLock { inbox -> [ReadyItem] in
            inbox.isClosed = true
            defer { inbox.items = [] }
            return inbox.items
        }
        LoopActor.withLoop(self) {
            timers.removeAll()
            deferredMemoryRelease = nil
            releaseDefaultExecutor()
            unwatchAllSignals()
            orphanChildren()
        }
        EventLoop.registry.withLock { $0.closed(self) }
    }

    /// At most this many iterations end what is open at `close()`; a task
    /// that catches its cancellation and waits again is left behind.
    static let maxClosingIterations = 100

    private func endWhatIsOpen() throws {
        let (pending, nothingOpen) = LoopActor.withLoop(self) {
            (liveTasks.tasks.filter { !$0.isDone }, openResources.isEmpty)
        }
        guard !pending.isEmpty || !nothingOpen else { return }
        try enterRun()
        defer { leaveRun() }
        LoopActor.assumeIsolated {
            for task in pending {
                callExceptionHandler(ExceptionContext(message: "Task was destroyed but it is pending!", task: task))
            }
            for task in pending { task.cancel(message: nil) }
            openResources.endAll(warn: debug)
            var iterations = 0
            while !ready.isEmpty, iterations < Self.maxClosingIterations {
                runOnce()
                iterations += 1
            }
        }
    }

    private func enterRun() throws {
        switch state {
        case .closed: throw EventLoopError.closed
        case .running: throw EventLoopError.alreadyRunning
        case .idle: break
        }
        guard ThreadLoop.current == nil else { throw EventLoopError.anotherLoopRunning }
        state = .running
        ThreadLoop.set(self)
        EventLoop.registry.withLock { $0.started(self) }
    }

    private func leaveRun() {
        EventLoop.registry.withLock { $0.finished(self) }
        ThreadLoop.set(nil)
        state = .idle
    }

    // MARK: One iteration

    /// One pass of the loop, in asyncio's `_run_once` order: wait for I/O no
    /// longer than the nearest timer, make due timers ready, then run exactly
    /// the callbacks and task steps that were ready at that point.
    ///
    /// Unlike asyncio, a loop with work ready polls for I/O only every
    /// `maxIterationsWithoutPoll` iterations: a zero-timeout `epoll_wait`
    /// costs a tenth of a task switch.
    @LoopActor
    func runOnce() {
        let nextDeadline = timers.pruneCancelled()
        if ready.isEmpty || stopping || iterationsSincePoll >= EventLoop.maxIterationsWithoutPoll {
            let timeout: Double?
            if !ready.isEmpty || stopping || inboxHasItems || awaitingWorkerSoon() {
                timeout = 0
            } else if let nextDeadline {
                timeout = max(0, nextDeadline - time())
            } else {
                timeout = nil
            }
            instruments?.forEach { $0.beforeIOWait(timeout: timeout) }
            let woken = selector.wait(timeout: timeout) { token, events in
                descriptorReady(Int32(truncatingIfNeeded: token), events: events)
            }
            instruments?.forEach { $0.afterIOWait() }
            iterationsSincePoll = 0
            drainInbox(afterWakeUp: woken)
        } else {
            // Busy: skip the zero-timeout epoll_wait, as I/O can wait a few
            // iterations; work from other threads is still taken every time.
            iterationsSincePoll += 1
            if inboxHasItems { drainInbox(afterWakeUp: false) }
        }

        if !timers.isEmpty {
            // A timer is due once the clock has reached it; the epoll timeout
            // was rounded up, so nothing fires early.
            timers.popDue(before: time().nextUp) { timer in
                let item: ReadyItem = switch timer {
                case .handle(let handle): .handle(handle)
                case .sleeper(let task): .sleepTimer(task)
                }
                ready.append(item)
                if let instruments { for instrument in instruments { instrument.timerDue(instrumentKind(of: item)) } }
            }
        }

        var remaining = ready.count
        if instruments == nil {
            while remaining > 0 {
                remaining -= 1
                run(ready.removeFirst())
            }
        } else {
            instruments?.forEach { $0.iterationStarted(readyCount: remaining) }
            while remaining > 0 {
                remaining -= 1
                let item = ready.removeFirst()
                var kind = instrumentKind(of: item)
                instruments?.forEach { $0.beforeRun(kind) }
                run(item)
                if case .taskStep(let known) = kind {
                    kind = .taskStep(steppedTask ?? known)
                    steppedTask = nil
                }
                instruments?.forEach { $0.afterRun(kind) }
            }
        }
    }

    @LoopActor @inline(__always)
    private func run(_ item: consuming ReadyItem) {
        switch consume item {
        case .handle(let handle):
            run(handle, once: true)
        case .watch(let handle):
            run(handle, once: false)
        case .job(let job):
            runJob(job)
        case .wakeUp(let continuation):
            capturingWakeUp = true
            continuation.resume()
            capturingWakeUp = false
            if let job = capturedJob {
                capturedJob = nil
                runJob(job)
            }
        case .sleepTimer(let task):
            task.sleepTimerRan()
        case .doneCallback(let future):
            future.runDoneCallback()
        }
    }

    /// Runs a handle's callback, giving it up if the handle runs `once`;
    /// an error goes to the exception handler, as asyncio's `Handle._run`.
    @LoopActor @inline(__always)
    private func run(_ handle: Handle, once: Bool) {
        do {
            if once { try handle.runOnce() } else { try handle.run() }
        } catch {
            callExceptionHandler(ExceptionContext(
                message: "Exception in callback \(handle.label)", error: error, handle: handle))
        }
    }

    @LoopActor @inline(__always)
    private func runJob(_ job: UnownedJob) {
        job.runSynchronously(
            isolatedTo: LoopDispatcher.shared.asUnownedSerialExecutor(),
            taskExecutor: asUnownedTaskExecutor())
        if let task = currentTask, !suspendedInRuntime {
            task.swiftTaskID = swiftTaskID(of: job)
            tasksBySwiftTask[task.swiftTaskID] = task
        }
        if instruments != nil, let task = currentTask { steppedTask = task }
        suspendedInRuntime = false
        currentTask = nil
    }

    /// Suspends the current task for exactly one iteration: its next step
    /// runs after everything that is ready now, as a bare `yield` does in
    /// an asyncio coroutine.
    @LoopActor
    func yieldOnce() async {
        let task = currentTask
        await _unsafeInheritExecutor_withUnsafeContinuation {
            ready.append(.wakeUp($0))
            suspendedInRuntime = true
        }
        currentTask = task
    }
}

extension LoopActor {
    /// Runs loop-isolated clean-up of `loop` from outside a run; the loop
    /// must not be running on another thread.
    static func withLoop<T>(_ loop: EventLoop, _ body: @LoopActor () throws -> T) rethrows -> T {
        if ThreadLoop.current != nil { return try assumeIsolated(body) }
        ThreadLoop.set(loop)
        defer { ThreadLoop.set(nil) }
        return try assumeIsolated(body)
    }
}
