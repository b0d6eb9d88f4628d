// Runs one workload and prints one JSON line, in the format of
// scripts/bench/py_bench.py, for scripts/bench/compare.
import Workloads
#if canImport(Glibc)
import Glibc
#endif

// First: a process pool's workers are this executable again.
Workloads.serveAsProcessPoolWorkerIfAsked()

/// One result line; `n` is the workload's item count, as py_bench.py reports it.
func emit(_ bench: String, _ value: Double, _ unit: String, n: Int, _ extra: [String: String] = [:]) {
    var fields = [#""bench": "\#(bench)""#, #""impl": "swift""#, #""value": \#(value)"#, #""unit": "\#(unit)""#,
                  #""n": \#(n)"#]
    fields += extra.sorted { $0.key < $1.key }.map { #""\#($0.key)": \#($0.value)"# }
    print("{" + fields.joined(separator: ", ") + "}")
}

let arguments = CommandLine.arguments.dropFirst()
guard let workload = arguments.first else {
    print("usage: asyncio-bench call_soon|call_soon_driver|task|sleepers|timers|queue|lock|event|spawn_sequential|spawn_concurrent|cat_pipe|executor_sequential|executor_gather|getaddrinfo|process_pool|udp_ping_pong")
    exit(64)
}

switch workload {
case "call_soon":
    emit("call_soon", try Workloads.callSoon(), "callbacks/s", n: Workloads.DefaultCount.callSoon)
case "call_soon_driver":
    emit("call_soon_driver", try Workloads.callSoonDriver(), "callbacks/s", n: Workloads.DefaultCount.callSoonDriver)
case "task":
    emit("task", try Workloads.tasks(), "tasks/s", n: Workloads.DefaultCount.tasks)
case "sleepers":
    let seconds = try Workloads.sleepers()
    emit("sleepers", seconds, "s", n: Workloads.DefaultCount.sleepers, ["rss_mib": "\(Workloads.peakRSSMiB())"])
case "timers":
    let result = try Workloads.timers()
    emit("timers", result.latenessMs, "ms", n: Workloads.DefaultCount.timers,
         ["fired": "\(result.fired)", "order_violations": "\(result.orderViolations)"])
case "queue":
    emit("queue", try Workloads.queue(), "items/s", n: Workloads.DefaultCount.queue)
case "lock":
    emit("lock", try Workloads.lock(), "acquisitions/s", n: Workloads.DefaultCount.lock)
case "event":
    emit("event", try Workloads.event(), "wake-ups/s", n: Workloads.DefaultCount.event)
case "spawn_sequential":
    emit("spawn_sequential", try Workloads.spawnSequential(), "spawns/s", n: 500)
case "spawn_concurrent":
    emit("spawn_concurrent", try Workloads.spawnConcurrent(), "spawns/s", n: 1000)
case "cat_pipe":
    emit("cat_pipe", try Workloads.catPipe(), "MiB/s", n: 512)
case "executor_sequential":
    emit("executor_sequential", try Workloads.executorSequential(), "calls/s", n: 20_000)
case "executor_gather":
    emit("executor_gather", try Workloads.executorGather(), "calls/s", n: 100_000)
case "getaddrinfo":
    emit("getaddrinfo", try Workloads.getaddrinfo(), "lookups/s", n: 20_000)
case "process_pool":
    emit("process_pool", try Workloads.processPool(), "calls/s", n: 20_000)
case "udp_ping_pong":
    emit("udp_ping_pong", try Workloads.udpPingPong(), "round trips/s", n: 100_000)
default:
    print("unknown workload \(workload): expected call_soon, call_soon_driver, task, sleepers, timers, queue, lock, event, spawn_sequential, spawn_concurrent, cat_pipe, executor_sequential, executor_gather, getaddrinfo, process_pool or udp_ping_pong")
    exit(64)
}
