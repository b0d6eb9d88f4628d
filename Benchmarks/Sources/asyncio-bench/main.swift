// Runs one workload and prints one JSON line, in the format of
// scripts/bench/py_bench.py, for scripts/bench/compare.
import Workloads
#if canImport(Glibc)
import Glibc
#endif

func emit(_ bench: String, _ value: Double, _ unit: String, _ extra: [String: String] = [:]) {
    var fields = [#""bench": "\#(bench)""#, #""impl": "swift""#, #""value": \#(value)"#, #""unit": "\#(unit)""#]
    fields += extra.sorted { $0.key < $1.key }.map { #""\#($0.key)": \#($0.value)"# }
    print("{" + fields.joined(separator: ", ") + "}")
}

let arguments = CommandLine.arguments.dropFirst()
guard let workload = arguments.first else {
    print("usage: asyncio-bench call_soon|task|sleepers|timers|queue|lock|event")
    exit(64)
}

switch workload {
case "call_soon":
    emit("call_soon", try Workloads.callSoon(), "callbacks/s")
case "task":
    emit("task", try Workloads.tasks(), "tasks/s")
case "sleepers":
    let seconds = try Workloads.sleepers()
    emit("sleepers", seconds, "s", ["rss_mib": "\(Workloads.peakRSSMiB())"])
case "timers":
    let result = try Workloads.timers()
    emit("timers", result.latenessMs, "ms",
         ["fired": "\(result.fired)", "order_violations": "\(result.orderViolations)"])
case "queue":
    emit("queue", try Workloads.queue(), "items/s")
case "lock":
    emit("lock", try Workloads.lock(), "acquisitions/s")
case "event":
    emit("event", try Workloads.event(), "wake-ups/s")
default:
    print("unknown workload \(workload): expected call_soon, task, sleepers, timers, queue, lock or event")
    exit(64)
}
