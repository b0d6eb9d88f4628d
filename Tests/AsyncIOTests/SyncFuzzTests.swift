import Foundation
import Testing
@testable import AsyncIO
import TestSupport

/// Randomized tests of the synchronization primitives: for each seed, a
/// handful of tasks use one primitive with random numbers of `sleep(0)`
/// yields between their steps, and random tasks are cancelled at random
/// moments, by the main task and by the tasks themselves right after they
/// wake someone. Everything runs on loop iterations, not time, so a seed
/// always replays the same way.
///
/// Checked: mutual exclusion and slot counts at every step, first-come
/// first-served order, that nobody stays asleep while they could proceed
/// (a lost wake-up shows as no progress), that every queue item is
/// delivered exactly once and in order, and the queue's task accounting.
///
/// A failure names its seed; `SYNC_FUZZ_SEED=<n>` replays one seed and
/// `SYNC_FUZZ_SEEDS=<n>` runs more of them.
@Suite(.suiteLimit) struct SyncFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seeds: [UInt64] = {
        if let one = environment["SYNC_FUZZ_SEED"].flatMap(UInt64.init) { return [one] }
        return Array(0..<(environment["SYNC_FUZZ_SEEDS"].flatMap(UInt64.init) ?? 2000))
    }()

    @Test func lock() throws { try fuzz("lock", lockScenario) }
    @Test func semaphore() throws { try fuzz("semaphore", semaphoreScenario) }
    @Test func event() throws { try fuzz("event", eventScenario) }
    @Test func condition() throws { try fuzz("condition", conditionScenario) }
    @Test func queue() throws { try fuzz("queue", queueScenario) }

    /// Runs `scenario` for every seed on one loop and records the first
    /// failures, each with its seed.
    private func fuzz(_ name: String, _ scenario: @escaping @LoopActor (Dice) async throws -> String?) throws {
        let seeds = Self.seeds
        let failures = try runLoop { _ -> [String] in
            var failures: [String] = []
            for seed in seeds {
                let problem: String?
                do {
                    problem = try await scenario(Dice(seed: seed))
                } catch {
                    problem = "the scenario threw \(error)"
                }
                if let problem {
                    failures.append("\(name), seed \(seed): \(problem) (replay: SYNC_FUZZ_SEED=\(seed))")
                    if failures.count == 3 { break }
                }
            }
            return failures
        }
        for failure in failures {
            print(failure)
            Issue.record(Comment(rawValue: failure))
        }
    }
}

/// The seeded source of every random choice of a scenario.
@LoopActor
final class Dice {
    private var generator: SplitMix
    /// How rarely `strike()` cancels: some seeds cancel often, some rarely,
    /// so that both short and long sequences play out.
    private(set) var cancelOdds = 10
    /// The tasks `strike()` may cancel.
    var targets: [LoopTask<Void>] = []

    init(seed: UInt64) {
        generator = SplitMix(seed: seed)
        cancelOdds = [4, 10, 30][roll(0...2)]
    }

    /// A number in `range`.
    func roll(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(generator.next() % UInt64(range.count))
    }

    /// True once in `odds` throws on average.
    func oneIn(_ odds: Int) -> Bool { roll(1...odds) == 1 }

    /// Gives way for 0 to `most` loop iterations.
    func yields(upTo most: Int) async throws {
        for _ in 0..<roll(0...most) { try await sleep(0) }
    }

    /// Now and then cancels a random target. Tasks call it right after
    /// waking someone, to hit the narrow window between a wake-up and the
    /// woken task running, where asyncio's own bugs were.
    func strike(oneIn odds: Int? = nil) {
        guard oneIn(odds ?? cancelOdds) else { return }
        let live = targets.filter { !$0.isDone }
        if !live.isEmpty { live[roll(0...(live.count - 1))].cancel() }
    }
}

/// Steps the loop until every task is done and `finished` says so,
/// cancelling random ones of `cancellable` now and then (they become the
/// dice's targets, so the tasks can strike too). `everyStep` runs
/// at every step to check invariants (and may act, as the scenario's
/// director). Returns a problem: an invariant broken, no progress (someone
/// asleep who should not be), or a task that failed with anything but
/// cancellation.
@LoopActor
private func drive(
    _ tasks: [LoopTask<Void>], cancellable: [LoopTask<Void>], dice: Dice,
    until finished: () -> Bool = { true },
    everyStep: () -> String? = { nil }
) async throws -> String? {
    dice.targets = cancellable
    let limit = 5_000
    for step in 0..<limit {
        if let problem = everyStep() { return problem }
        if finished(), tasks.allSatisfy(\.isDone) { break }
        // Only early on: cancelling forever would end a stalled run by
        // cancelling everyone, hiding the lost wake-up behind it.
        if step < 100 { dice.strike() }
        try await sleep(0)
    }
    if !tasks.allSatisfy(\.isDone) || !finished() {
        return "no progress after \(limit) iterations: \(tasks.filter { !$0.isDone }.count) tasks still waiting"
    }
    for task in tasks where !task.isCancelled {
        if let error = try task.exception() { return "a task failed: \(error)" }
    }
    return nil
}

/// Whether `tickets` only go up: first come, first served.
private func inOrder(_ tickets: [Int]) -> Bool { zip(tickets, tickets.dropFirst()).allSatisfy { $0 < $1 } }

// MARK: Lock

/// Tasks take the lock in rounds, in both styles, holding it across
/// yields. Checks: one holder at a time; the lock is never free while the
/// first waiter sleeps; acquisition in the order of asking; every task
/// not cancelled completes all its rounds; the lock ends free and empty.
@LoopActor
private func lockScenario(_ dice: Dice) async throws -> String? {
    let lock = Lock()
    var holders = 0, tickets = 0
    var violation: String?
    var acquired: [Int] = []
    var roundsDone: [Int] = []
    let rounds = dice.roll(1...4)

    let workers = (0..<dice.roll(2...6)).map { worker in
        roundsDone.append(0)
        return createTask {
            for _ in 0..<rounds {
                try await dice.yields(upTo: 2)
                tickets += 1
                let ticket = tickets
                let critical: @LoopActor () async throws -> Void = {
                    holders += 1
                    if holders > 1 { violation = "\(holders) tasks hold the lock" }
                    acquired.append(ticket)
                    defer { holders -= 1 }
                    try await dice.yields(upTo: 2)
                }
                if dice.oneIn(2) {
                    try await lock.withLock(critical)
                } else {
                    try await lock.acquire()
                    do { try await critical() } catch {
                        try lock.release()
                        throw error
                    }
                    try lock.release()
                }
                dice.strike()
                roundsDone[worker] += 1
            }
        }
    }
    if let problem = try await drive(workers, cancellable: workers, dice: dice, everyStep: {
        if let violation { return violation }
        if !lock.isLocked, let first = lock.waiters.first, !first.isDone {
            return "the lock is free while its first waiter sleeps"
        }
        return nil
    }) { return problem }
    if !inOrder(acquired) { return "acquired out of order: \(acquired)" }
    for (worker, task) in workers.enumerated() where !task.isCancelled && roundsDone[worker] != rounds {
        return "worker \(worker) did \(roundsDone[worker]) of \(rounds) rounds"
    }
    if lock.isLocked || !lock.waiters.isEmpty { return "left behind: \(lock)" }
    return nil
}

// MARK: Semaphore

/// As for the lock, with 1 to 3 slots, a plain or a bounded semaphore
/// (which throws on a release too many). Checks: never more holders than
/// slots; free slots with sleeping waiters only while a woken or cancelled
/// waiter is about to pass them on; order of asking; all slots back at the end.
@LoopActor
private func semaphoreScenario(_ dice: Dice) async throws -> String? {
    let slots = dice.roll(1...3)
    let bounded = dice.oneIn(2)
    let plain = Semaphore(value: slots)
    let boundedOne = BoundedSemaphore(value: slots)
    let semaphore: any Acquirable = bounded ? boundedOne : plain
    var holders = 0, tickets = 0
    var violation: String?
    var acquired: [Int] = []
    var roundsDone: [Int] = []
    let rounds = dice.roll(1...4)

    let workers = (0..<dice.roll(2...7)).map { worker in
        roundsDone.append(0)
        return createTask {
            for _ in 0..<rounds {
                try await dice.yields(upTo: 2)
                tickets += 1
                let ticket = tickets
                try await semaphore.withLock {
                    holders += 1
                    if holders > slots { violation = "\(holders) tasks hold \(slots) slots" }
                    acquired.append(ticket)
                    defer { holders -= 1 }
                    try await dice.yields(upTo: 2)
                }
                dice.strike()
                roundsDone[worker] += 1
            }
        }
    }
    let value = { bounded ? boundedOne.value : plain.value }
    let waiters = { bounded ? boundedOne.semaphore.waiters : plain.waiters }
    if let problem = try await drive(workers, cancellable: workers, dice: dice, everyStep: {
        if let violation { return violation }
        let line = waiters()
        if value() > 0, line.contains(where: { !$0.isDone }), !line.contains(where: \.isDone) {
            return "\(value()) free slots while waiters sleep"
        }
        return nil
    }) { return problem }
    if !inOrder(acquired) { return "acquired out of order: \(acquired)" }
    for (worker, task) in workers.enumerated() where !task.isCancelled && roundsDone[worker] != rounds {
        return "worker \(worker) did \(roundsDone[worker]) of \(rounds) rounds"
    }
    if value() != slots || !waiters().isEmpty {
        return "left behind: \(bounded ? boundedOne.description : plain.description)"
    }
    return nil
}

// MARK: Event

/// Tasks wait for the event again and again while the main task sets and
/// clears it at random. Checks: no waiter sleeps while the event is set;
/// once it stays set, everyone gets through.
@LoopActor
private func eventScenario(_ dice: Dice) async throws -> String? {
    let event = Event()
    let rounds = dice.roll(1...4)
    let workers = (0..<dice.roll(1...6)).map { _ in
        createTask {
            for _ in 0..<rounds {
                try await dice.yields(upTo: 2)
                try await event.wait()
            }
        }
    }
    var steps = 0
    return try await drive(workers, cancellable: workers, dice: dice, everyStep: {
        if event.isSet, !event.waiters.isEmpty {
            return "a waiter sleeps while the event is set"
        }
        // Toggle at random for a while, then leave it set.
        steps += 1
        if steps > 40 {
            event.set()
        } else if dice.oneIn(4) {
            if event.isSet { event.clear() } else { event.set() }
            dice.strike()
        }
        return nil
    })
}

// MARK: Condition

/// Consumers each wait, holding the condition's lock, until a token is
/// there and take it, holding the lock across a few iterations. A producer
/// adds a token only when none is left and someone still wants one, and
/// notifies one, some or all waiters, mostly one. Consumers are cancelled
/// at random, right after notifications too. So a lost notification leaves
/// a token lying next to sleeping consumers for good, which shows as no
/// progress. Also checked: one lock holder at a time, no token taken twice,
/// every consumer not cancelled served, the condition left free and empty.
@LoopActor
private func conditionScenario(_ dice: Dice) async throws -> String? {
    let condition = Condition()
    let consumerCount = dice.roll(2...6)
    var tokens = 0, produced = 0, consumed = 0, holders = 0
    var violation: String?
    var served = Array(repeating: false, count: consumerCount)

    func hold() {
        holders += 1
        if holders > 1 { violation = "\(holders) tasks hold the condition's lock" }
    }

    let consumers = (0..<consumerCount).map { consumer in
        createTask {
            try await dice.yields(upTo: 3)
            try await condition.withLock {
                try await condition.waitFor { tokens > 0 }
                hold()
                defer { holders -= 1 }
                tokens -= 1
                consumed += 1
                served[consumer] = true
                try await dice.yields(upTo: 1)  // keep the lock across iterations
            }
        }
    }
    let producer = createTask {
        while !consumers.allSatisfy(\.isDone) {
            try await dice.yields(upTo: 2)
            guard tokens == 0 else { continue }
            try await condition.withLock {
                hold()
                defer { holders -= 1 }
                tokens += 1
                produced += 1
                switch dice.roll(0...5) {
                case 0: try condition.notify(dice.roll(2...3))
                case 1: try condition.notifyAll()
                default: try condition.notify()
                }
                dice.strike(oneIn: 2)
                try await dice.yields(upTo: 1)
            }
        }
    }
    if let problem = try await drive(consumers + [producer], cancellable: consumers, dice: dice, everyStep: {
        violation ?? (tokens < 0 ? "a token was taken twice" : nil)
    }) { return problem }
    if tokens + consumed != produced { return "\(tokens) left and \(consumed) taken of \(produced)" }
    for (consumer, task) in consumers.enumerated() where !task.isCancelled && !served[consumer] {
        return "consumer \(consumer) finished without a token"
    }
    if condition.isLocked || !condition.waiters.isEmpty || !condition.lock.waiters.isEmpty {
        return "left behind: \(condition), \(condition.lock)"
    }
    return nil
}

// MARK: Queue

/// Producers put numbered items (sometimes with `putNowait`) into a FIFO,
/// LIFO or priority queue of random size; consumers get them, sometimes
/// marking them done. Producers and consumers other than the first
/// consumer are cancelled at random; when the producers are done and the
/// queue is drained, the queue is shut down and the consumers leave.
/// Checks: the queue never exceeds its size; every item put is delivered
/// exactly once, in order for a FIFO queue; no item waits while a consumer
/// sleeps; the unfinished count is puts minus `taskDone` calls, and `join`
/// at the end returns if and only if that is 0.
@LoopActor
private func queueScenario(_ dice: Dice) async throws -> String? {
    let maxsize = dice.roll(0...3)
    let kind = dice.roll(0...2)
    let q: Queue<Int> = switch kind {
    case 0: Queue(maxsize: maxsize)
    case 1: LifoQueue(maxsize: maxsize)
    default: PriorityQueue(maxsize: maxsize)
    }
    var put: [Int] = [], got: [Int] = []
    var doneCalls = 0
    /// Consumers inside `get()`: asleep in `q.getters`, or woken (taken
    /// out of the line) and about to take an item or pass it on.
    var inGet = 0

    let producers = (0..<dice.roll(1...3)).map { producer in
        createTask {
            for n in 0..<dice.roll(0...5) {
                let item = producer * 100 + n
                try await dice.yields(upTo: 2)
                if dice.oneIn(4) {
                    do {
                        try q.putNowait(item)
                        put.append(item)
                        dice.strike()
                        continue
                    } catch is QueueFull {}
                }
                try await q.put(item)
                put.append(item)
                dice.strike(oneIn: 3)
            }
        }
    }
    let consumers = (0..<dice.roll(1...3)).map { _ in
        createTask {
            while true {
                try await dice.yields(upTo: 2)
                let item: Int
                inGet += 1
                do {
                    item = try await q.get()
                    inGet -= 1
                } catch is QueueShutDown {
                    inGet -= 1
                    return
                } catch {
                    inGet -= 1
                    throw error
                }
                got.append(item)
                dice.strike(oneIn: 3)
                try await dice.yields(upTo: 1)
                if !dice.oneIn(5) {
                    try q.taskDone()
                    doneCalls += 1
                }
            }
        }
    }
    var shutDown = false
    let everyone = producers + consumers
    if let problem = try await drive(everyone, cancellable: producers + consumers.dropFirst(), dice: dice, until: {
        if !shutDown, producers.allSatisfy(\.isDone), q.isEmpty {
            q.shutdown()
            shutDown = true
        }
        return shutDown
    }, everyStep: {
        if maxsize > 0, q.qsize > maxsize { return "\(q.qsize) items in a queue of \(maxsize)" }
        if got.count > put.count { return "more items got than put" }
        // Every item must have a woken consumer on its way while any sleeps.
        let asleep = q.getters.count { !$0.isDone }
        let woken = inGet - q.getters.count
        if asleep > 0, q.qsize > woken {
            return "\(q.qsize) items wait while \(asleep) consumers sleep (\(woken) woken)"
        }
        return nil
    }) { return problem }

    if kind == 0 {
        if got != put { return "put \(put), got \(got)" }
    } else if got.sorted() != put.sorted() {
        return "put \(put.sorted()), got \(got.sorted())"
    }
    if Set(got).count != got.count { return "an item was delivered twice: \(got)" }
    if q.unfinishedTasks != put.count - doneCalls {
        return "unfinished count \(q.unfinishedTasks), expected \(put.count - doneCalls)"
    }
    let joiner = createTask { try await q.join() }
    try await iterations(2)
    if joiner.isDone != (q.unfinishedTasks == 0) {
        return "join \(joiner.isDone ? "returned" : "still waits") with \(q.unfinishedTasks) unfinished"
    }
    joiner.cancel()
    if !q.getters.isEmpty || !q.putters.isEmpty { return "left behind: \(q)" }
    return nil
}
