import Benchmark
import Workloads

// package-benchmark suites over the same workloads as scripts/bench/compare;
// they track time, instructions and allocations between commits.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(10), maxIterations: 5)

    Benchmark("callSoon 1M callbacks") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.callSoon()) }
    }
    Benchmark("Task create+await 200k") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.tasks()) }
    }
    Benchmark("100k sleeping tasks") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.sleepers()) }
    }
    Benchmark("200k timers") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.timers()) }
    }
    Benchmark("Queue 1M items, 1 producer, 1 consumer") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.queue()) }
    }
    Benchmark("Lock 1M acquisitions, 100 tasks") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.lock()) }
    }
    Benchmark("Event waking 100k waiters") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Workloads.event()) }
    }
}
