#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

extension ProcessPoolExecutor {
    /// The hidden argument a pool starts its workers with (argv[1]), as
    /// Python's multiprocessing starts its children with `--multiprocessing-fork`.
    nonisolated static let workerFlag = "--asyncio-process-pool-worker"

    /// Where a worker sends its responses; its stdin brings the requests
    /// and its stdout is relayed to the pool's stdout.
    nonisolated static let responseDescriptor: Int32 = 3

    /// The worker mode of an executable that uses a process pool. Call it
    /// at the very top of `main`, after registering the pool's functions
    /// with `register`: in a process that a pool started as its worker it
    /// serves calls until the pool closes its stdin, then exits, never
    /// returning; in any other process it returns at once.
    ///
    /// A worker runs one call at a time. What the functions print to
    /// standard output reaches the pool's standard output; standard error is
    /// the pool's own. Standard input carries the pool's requests: a
    /// function must not read it.
    public nonisolated static func runWorkerIfRequested() {
        // argv is read in place: nothing is allocated in the common case.
        guard CommandLine.argc >= 2, let flag = CommandLine.unsafeArgv[1],
              strcmp(flag, workerFlag) == 0 else { return }
        guard fcntl(responseDescriptor, F_GETFD) != -1 else {
            let message = "\(workerFlag): this process was not started by a ProcessPoolExecutor (descriptor 3 is not open)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        WorkerLoop().serve()
    }
}

/// A worker's life: read requests from stdin, run each, write the
/// responses to descriptor 3, until stdin ends. Plain blocking I/O: the
/// worker does nothing else meanwhile.
private final class WorkerLoop {
    private let input = FrameBuffer()
    private var output: [UInt8] = []
    private let coders = FunctionRegistry.Coders()
    private let handlers = FunctionRegistry.handlers.withLock { $0 }

    func serve() -> Never {
        // Line by line, so a function's lines reach the pool as it prints
        // them, not when the call ends (stdout is a pipe: fully buffered).
        setvbuf(clinux_stdout(), nil, _IOLBF, 0)
        while true {
            let space = input.freeSpace()
            let count = read(0, space.baseAddress, space.count)
            if count == 0 { exit(0) }  // the pool closed our stdin: done
            if count < 0 {
                if errno == EINTR { continue }
                exit(1)
            }
            input.didRead(count)
            guard !input.isCorrupt else { exit(1) }
            runBufferedCalls()
        }
    }

    /// Runs every whole request buffered, then sends their responses in one
    /// write. What the calls printed is flushed first: the pool relays a
    /// worker's output before it hands out the results that followed it.
    private func runBufferedCalls() {
        while let frame = input.nextFrame() {
            guard let (name, argument) = Frames.parseRequest(frame) else { exit(1) }
            if let handler = handlers[name] {
                handler(argument, coders, &output)
            } else {
                Frames.appendResponse(to: &output, .unknownFunction, payload: Array(name.utf8))
            }
        }
        guard !output.isEmpty else { return }
        fflush(clinux_stdout())
        output.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(ProcessPoolExecutor.responseDescriptor, bytes.baseAddress! + offset,
                                    bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    exit(1)  // the pool is gone
                }
                offset += written
            }
        }
        output.removeAll(keepingCapacity: true)
    }
}
