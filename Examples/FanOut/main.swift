// Fan-out: three simulated downloads started at once, then collected six
// ways — gather, wait, asCompleted, a task group, a timeout, and a timeout
// that reaches Swift's own `async let`.
//
//     swift run FanOut

import AsyncIO

struct DownloadFailed: Error, CustomStringConvertible {
    let name: String
    var description: String { "DownloadFailed(\(name))" }
}

/// The downloads: names and how long each takes, far enough apart (and
/// from the timeout below) that a busy machine keeps the same output.
let sources: [(name: String, seconds: Double)] = [("alpha", 1.2), ("beta", 0.2), ("gamma", 0.7)]

/// A function written by the user that touches the loop is `@LoopActor`:
/// the closures given to `run` and `createTask` already are.
@LoopActor
func download(_ name: String, seconds: Double) async throws -> String {
    try await sleep(seconds)
    return "\(name): \(Int(seconds * 1000)) ms"
}

@LoopActor
func startDownloads() -> [LoopTask<String>] {
    sources.map { source in
        createTask(name: source.name) { try await download(source.name, seconds: source.seconds) }
    }
}

try run {
    // gather: every result, in the order the tasks were given.
    print("gather:", try await gather(startDownloads()))

    // wait(returnWhen: .firstCompleted): the first to finish, and the rest,
    // still running until cancelled.
    let (done, pending) = try await wait(startDownloads(), returnWhen: .firstCompleted)
    print("wait: first done \(try done[0].result()), \(pending.count) pending")
    for task in pending { task.cancel() }   // they finish cancelling on the loop's next iteration

    // asCompleted: each task as it finishes.
    var order: [String] = []
    for try await finished in asCompleted(startDownloads()) { order.append(try finished.result()) }
    print("asCompleted:", order)

    // A task group: when one task fails, the others are cancelled and the
    // errors come back together.
    do {
        try await withLoopTaskGroup { group in
            for source in sources {
                group.createTask {
                    if source.name == "beta" {
                        try await sleep(source.seconds)
                        throw DownloadFailed(name: source.name)
                    }
                    return try await download(source.name, seconds: source.seconds)
                }
            }
        }
    } catch let failures as ExceptionGroup {
        print("task group: \(failures.errors.count) failed: \(failures.errors[0])")
    }

    // timeout: the block is cancelled when the time is up, and the scope
    // throws TimeoutError; gather cancels its children on the way out.
    let slow = startDownloads()
    do {
        _ = try await timeout(0.45) { try await gather(slow) }
    } catch is TimeoutError {
        print("timeout: after 0.45 s, cancelled", slow.filter(\.isCancelled).map(\.name))
    }

    // Swift's own concurrency inside a loop task: withSwiftCancellation
    // lets the timeout reach Task.sleep and async let children.
    let started = runningLoop().time()
    do {
        _ = try await timeout(0.1) {
            try await withSwiftCancellation {
                async let swiftWork: Void = Task.sleep(for: .seconds(5))
                try await swiftWork
            }
        }
    } catch is TimeoutError {
        let elapsed = runningLoop().time() - started
        print("async let under timeout: TimeoutError", elapsed < 4 ? "at once" : "after the sleep")
    }
}
