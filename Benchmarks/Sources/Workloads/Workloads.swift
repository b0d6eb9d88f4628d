import AsyncIO
#if canImport(Glibc)
import Glibc
#endif

/// The benchmark workloads, defined exactly as the CPython programs in
/// `scripts/bench/py_bench.py` so the two can be compared in one table.
public enum Workloads {
    /// Items per run of each workload, as `DEFAULT_N` in `py_bench.py`.
    public enum DefaultCount {
        public static let callSoon = 1_000_000
        public static let callSoonDriver = 1_000_000
        public static let tasks = 200_000
        public static let sleepers = 100_000
        public static let timers = 200_000
        public static let queue = 1_000_000
        public static let lock = 1_000_000
        public static let event = 100_000
    }

    /// 1,000,000 `callSoon` callbacks scheduled from a task; each counts,
    /// the last completes a future. Returns callbacks per second.
    public static func callSoon(count: Int = DefaultCount.callSoon) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let counter = Counter(target: count, loop: loop)
            let start = loop.time()
            for _ in 0..<count { loop.callSoon { counter.tick() } }
            try await counter.done.value
            return Double(count) / (loop.time() - start)
        }
    }

    /// 1,000,000 `callSoon` callbacks scheduled 1,000 at a time by a driver
    /// callback that then schedules itself again, so the ready queue stays
    /// short, as in a real program. Returns callbacks per second.
    public static func callSoonDriver(count: Int = DefaultCount.callSoonDriver, batch: Int = 1000) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let counter = Counter(target: count, loop: loop)
            let driver = Driver(loop: loop, counter: counter, remaining: count, batch: batch)
            let start = loop.time()
            loop.callSoon { driver.drive() }
            try await counter.done.value
            return Double(count) / (loop.time() - start)
        }
    }

    /// 200,000 tasks created and awaited one after another. Returns tasks per second.
    public static func tasks(count: Int = DefaultCount.tasks) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let start = loop.time()
            for _ in 0..<count {
                try await loop.createTask { () -> Void in }.value
            }
            return Double(count) / (loop.time() - start)
        }
    }

    /// 100,000 concurrent tasks, each sleeping a seeded random 0–100 ms,
    /// gathered. Returns the wall time in seconds (the delays are drawn
    /// before the clock starts, as in the Python program). The tasks are
    /// kept until the clock has stopped, as the Python program's list keeps
    /// them: Swift would otherwise free them all right after `gather`,
    /// inside the measured time.
    public static func sleepers(count: Int = DefaultCount.sleepers) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            var random = SplitMix(seed: 42)
            let delays = (0..<count).map { _ in random.unit() * 0.1 }
            let start = loop.time()
            let tasks = delays.map { delay in loop.createTask { try await sleep(delay) } }
            _ = try await gather(tasks)
            let elapsed = loop.time() - start
            withExtendedLifetime(tasks) {}
            return elapsed
        }
    }

    /// 200,000 timers with seeded random delays of 0–200 ms. Returns how
    /// late the last one ran past the latest deadline (ms), how many fired,
    /// and how many fired before an earlier deadline (must be 0).
    public static func timers(count: Int = DefaultCount.timers) throws -> (latenessMs: Double, fired: Int, orderViolations: Int) {
        try run { () -> (Double, Int, Int) in
            let loop = runningLoop()
            var random = SplitMix(seed: 42)
            let delays = (0..<count).map { _ in random.unit() * 0.2 }
            let maxDelay = delays.max() ?? 0
            let check = OrderCheck(target: count, loop: loop)
            let start = loop.time()
            for delay in delays {
                let when = loop.time() + delay
                loop.callAt(when) { check.fired(deadline: when) }
            }
            let finished = try await check.done.value
            return ((finished - (start + maxDelay)) * 1000, check.count, check.violations)
        }
    }

    /// Peak resident set size of this process in MiB.
    public static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

@LoopActor
final class Counter {
    private var count = 0
    private let target: Int
    let done: Future<Void>
    init(target: Int, loop: EventLoop) {
        self.target = target
        done = Future(loop: loop)
    }
    func tick() {
        count += 1
        if count == target { try? done.setResult(()) }
    }
}

/// Schedules `batch` counting callbacks, then itself, until `remaining` is spent.
@LoopActor
final class Driver {
    private let loop: EventLoop
    private let counter: Counter
    private var remaining: Int
    private let batch: Int
    init(loop: EventLoop, counter: Counter, remaining: Int, batch: Int) {
        self.loop = loop
        self.counter = counter
        self.remaining = remaining
        self.batch = batch
    }
    /// One callback, scheduled over and over, as the Python version passes
    /// the same function to every `call_soon`.
    private lazy var tick: @LoopActor () throws -> Void = { [counter] in counter.tick() }
    private lazy var again: @LoopActor () throws -> Void = { [unowned self] in drive() }

    func drive() {
        let now = min(batch, remaining)
        remaining -= now
        for _ in 0..<now { loop.callSoon(tick) }
        if remaining > 0 { loop.callSoon(again) }
    }
}

@LoopActor
final class OrderCheck {
    private(set) var count = 0
    private(set) var violations = 0
    private var lastDeadline = -Double.infinity
    private let target: Int
    private let loop: EventLoop
    /// Completed with the loop time at which the last timer ran.
    let done: Future<Double>

    init(target: Int, loop: EventLoop) {
        self.target = target
        self.loop = loop
        done = Future(loop: loop)
    }

    func fired(deadline: Double) {
        if deadline < lastDeadline { violations += 1 }
        lastDeadline = deadline
        count += 1
        if count == target { try? done.setResult(loop.time()) }
    }
}

/// A small seeded generator, so every run schedules the same delays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform value in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
