import AsyncIO

extension Workloads {
    /// 500 children of `/bin/true` started and waited for one after
    /// another. Returns spawns per second.
    public static func spawnSequential(count: Int = 500) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let start = loop.time()
            for _ in 0..<count {
                let process = try await createSubprocessExec("/bin/true")
                _ = try await process.wait()
            }
            return Double(count) / (loop.time() - start)
        }
    }

    /// 1,000 children of `/bin/true`, 50 in flight: 50 tasks each start and
    /// wait for 20 in turn. Returns spawns per second.
    public static func spawnConcurrent(count: Int = 1000, inFlight: Int = 50) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let start = loop.time()
            let workers = (0..<inFlight).map { _ in
                loop.createTask { () -> Void in
                    for _ in 0..<(count / inFlight) {
                        let process = try await createSubprocessExec("/bin/true")
                        _ = try await process.wait()
                    }
                }
            }
            _ = try await gather(workers)
            return Double(count) / (loop.time() - start)
        }
    }

    /// `mebibytes` MiB written to `cat`'s stdin in 1 MiB writes (each
    /// drained) while its stdout is read in 256 KiB reads, with the streams
    /// API. Returns MiB per second; throws if a byte count is off.
    public static func catPipe(mebibytes: Int = 512) throws -> Double {
        try run { () -> Double in
            let loop = runningLoop()
            let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
            let start = loop.time()
            let cat = try await createSubprocessExec("/bin/cat", stdin: .pipe, stdout: .pipe)
            let stdin = cat.stdin!, stdout = cat.stdout!
            let writer = loop.createTask { () -> Void in
                for _ in 0..<mebibytes {
                    stdin.write(chunk)
                    try await stdin.drain()
                }
                stdin.close()
            }
            var received = 0
            while true {
                let data = try await stdout.read(256 * 1024)
                if data.isEmpty { break }
                received += data.count
            }
            try await writer.value
            _ = try await cat.wait()
            let elapsed = loop.time() - start
            guard received == mebibytes << 20 else { throw BenchmarkFailure(message: "received \(received) bytes") }
            return Double(mebibytes) / elapsed
        }
    }
}

struct BenchmarkFailure: Error {
    let message: String
}
