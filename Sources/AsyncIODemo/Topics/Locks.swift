import ArgumentParser
import AsyncIO

struct LocksCommand: TopicCommand {
    static let topic = Topic(
        name: "locks",
        aliases: ["synchronization"],
        section: "Synchronization Primitives",
        abstract: "Lock, Event, Condition, Queue and Semaphore: tasks taking turns and handing over work.",
        examples: [
            Example(name: "lock", summary: "A lock taken before the tasks start; a callback releases it.",
                    mirrors: "asyncio_lock.py: Lock, async with lock, acquire/release", run: lockExample),
            Example(name: "event", summary: "Setting an event wakes every task waiting for it.",
                    mirrors: "asyncio_event.py: Event.wait, set, is_set", run: eventExample),
            Example(name: "condition", summary: "notify wakes one waiter, then two, then notify_all the rest.",
                    mirrors: "asyncio_condition.py: Condition.wait, notify, notify_all", run: conditionExample),
            Example(name: "queue", summary: "A producer fills a bounded queue for two consumers, then joins it.",
                    mirrors: "asyncio_queue.py: Queue(maxsize=), put, get, task_done, join", run: queueExample),
            Example(name: "semaphore", summary: "A semaphore lets at most two of five workers run at once.",
                    mirrors: "beyond the documentation: Semaphore, async with semaphore, locked()",
                    run: semaphoreExample),
        ]
    )
    static let configuration = makeConfiguration()
    @Argument(help: "The example to run; all of them when omitted.") var example: String?
    @OptionGroup(title: "Learning") var learner: LearnerOptions
}

private func pythonBool(_ value: Bool) -> String { value ? "True" : "False" }

// MARK: lock

@LoopActor
private func unlock(_ lock: Lock) throws {
    print("callback releasing lock")
    try lock.release()
}

/// Takes the lock with `withLock`, Swift's `async with lock:`.
@LoopActor
private func lockCoro1(_ lock: Lock) async throws {
    print("coro1 waiting for the lock")
    try await lock.withLock {
        print("coro1 acquired lock")
    }
    print("coro1 released lock")
}

/// Takes the lock with `acquire()` and gives it back with `release()`.
@LoopActor
private func lockCoro2(_ lock: Lock) async throws {
    print("coro2 waiting for the lock")
    try await lock.acquire()
    print("coro2 acquired lock")
    // The script releases in a `finally:` block; nothing between acquire
    // and release can throw here, so no `defer` is needed.
    print("coro2 released lock")
    try lock.release()
}

private func lockExample() throws {
    try runUntilComplete { loop in
        // Create and acquire a shared lock.
        let lock = Lock()
        print("acquiring the lock before starting coroutines")
        try await lock.acquire()
        print("lock acquired: \(pythonBool(lock.isLocked))")

        // Schedule a callback to unlock the lock.
        loop.callLater(0.1, label: "unlock") { try unlock(lock) }

        // Run the coroutines that want to use the lock.
        print("waiting for coroutines")
        _ = try await wait([
            createTask(coroutine: "coro1") { try await lockCoro1(lock) },
            createTask(coroutine: "coro2") { try await lockCoro2(lock) },
        ])
    }
}

// MARK: event

@LoopActor
private func setEvent(_ event: Event) {
    print("setting event in callback")
    event.set()
}

@LoopActor
private func eventCoro(_ name: String, _ event: Event) async throws {
    print("\(name) waiting for event")
    try await event.wait()
    print("\(name) triggered")
}

private func eventExample() throws {
    try runUntilComplete { loop in
        // Create a shared event.
        let event = Event()
        print("event start state: \(pythonBool(event.isSet))")

        loop.callLater(0.1, label: "set_event") { setEvent(event) }

        _ = try await wait([
            createTask(coroutine: "coro1") { try await eventCoro("coro1", event) },
            createTask(coroutine: "coro2") { try await eventCoro("coro2", event) },
        ])
        print("event end state: \(pythonBool(event.isSet))")
    }
}

// MARK: condition

@LoopActor
private func consumer(_ condition: Condition, _ n: Int) async throws {
    try await condition.withLock {
        print("consumer \(n) is waiting")
        try await condition.wait()
        print("consumer \(n) triggered")
    }
    print("ending consumer \(n)")
}

@LoopActor
private func manipulateCondition(_ condition: Condition) async throws {
    print("starting manipulate_condition")

    // Pause to let the consumers start.
    try await sleep(0.1)

    for i in 1...2 {
        try await condition.withLock {
            print("notifying \(i) consumers")
            try condition.notify(i)
        }
        try await sleep(0.1)
    }

    try await condition.withLock {
        print("notifying remaining consumers")
        try condition.notifyAll()
    }

    print("ending manipulate_condition")
}

private func conditionExample() throws {
    try runUntilComplete { loop in
        // Create a condition.
        let condition = Condition()

        // Set up the consumers: coroutines, not yet tasks.
        let consumers = (0..<5).map { i in { @Sendable @LoopActor in try await consumer(condition, i) } }

        // Schedule a task to manipulate the condition variable.
        _ = loop.createTask(coroutine: "manipulate_condition") { try await manipulateCondition(condition) }

        // Wait for the consumers to be done. As in the documentation,
        // `wait` is what makes them tasks, after the manipulating task:
        // so it starts first.
        _ = try await wait(consumers.map { createTask(coroutine: "consumer", $0) })
    }
}

// MARK: queue

@LoopActor
private func queueConsumer(_ n: Int, _ q: Queue<Int?>) async throws {
    print("consumer \(n): starting")
    while true {
        print("consumer \(n): waiting for item")
        let item = try await q.get()
        print("consumer \(n): has item \(item.map(String.init) ?? "None")")
        guard let item else {
            // nil is the signal to stop.
            try q.taskDone()
            break
        }
        try await sleep(0.01 * Double(item))
        try q.taskDone()
    }
    print("consumer \(n): ending")
}

@LoopActor
private func producer(_ q: Queue<Int?>, _ numWorkers: Int) async throws {
    print("producer: starting")
    // Add some numbers to the queue to simulate jobs.
    for i in 0..<(numWorkers * 3) {
        try await q.put(i)
        print("producer: added task \(i) to the queue")
    }
    // Add nil entries to the queue to signal the consumers to exit.
    print("producer: adding stop signals to the queue")
    for _ in 0..<numWorkers {
        try await q.put(nil)
    }
    print("producer: waiting for queue to empty")
    try await q.join()
    print("producer: ending")
}

private func queueExample() throws {
    try runUntilComplete { loop in
        let numConsumers = 2
        // Create the queue with a fixed size so the producer will block
        // until the consumers pull some items out.
        let q = Queue<Int?>(maxsize: numConsumers)

        // Schedule the consumer tasks.
        let consumers = (0..<numConsumers).map { i in
            loop.createTask(coroutine: "consumer") { try await queueConsumer(i, q) }
        }

        // Schedule the producer task.
        let prod = loop.createTask(coroutine: "producer") { try await producer(q, numConsumers) }

        // Wait for all of the tasks to finish.
        _ = try await wait(consumers + [prod])
    }
}

// MARK: semaphore

@LoopActor
private func worker(_ n: Int, steps: Int, _ semaphore: Semaphore, _ running: Running) async throws {
    print("worker \(n): waiting for a slot")
    try await semaphore.withLock {
        running.names.append(n)
        print("worker \(n): has a slot, running: \(running.names)")
        // Work for a few loop iterations, giving way at each.
        for _ in 0..<steps { try await sleep(0) }
        running.names.removeAll { $0 == n }
    }
    print("worker \(n): done")
}

/// The workers holding a slot, in the order they got it.
@LoopActor
private final class Running {
    var names: [Int] = []
}

private func semaphoreExample() throws {
    try runUntilComplete { _ in
        let semaphore = Semaphore(value: 2)
        let running = Running()
        print("starting 5 workers, at most 2 at a time")
        let steps = [3, 1, 2, 1, 1]
        let tasks = (0..<5).map { i in
            createTask(coroutine: "worker") { try await worker(i, steps: steps[i], semaphore, running) }
        }
        print("semaphore locked: \(pythonBool(semaphore.isLocked))")
        try await sleep(0)
        print("semaphore locked: \(pythonBool(semaphore.isLocked))")
        _ = try await wait(tasks)
        print("all workers done, semaphore locked: \(pythonBool(semaphore.isLocked))")
    }
}
