/// A chapter of the documentation and the examples that mirror it.
struct Topic: Sendable {
    /// The command-line name, such as `coroutines`.
    let name: String
    /// Other names accepted on the command line.
    var aliases: [String] = []
    /// The documentation section this topic mirrors.
    let section: String
    /// One line on what the chapter teaches.
    let abstract: String
    /// What in this topic's output differs from run to run, so the golden
    /// tests normalise exactly that and compare the rest byte for byte.
    /// Most topics print the same bytes every run and declare nothing.
    var normalize: [Normalization] = []
    let examples: [Example]

    func example(named name: String) -> Example? { examples.first { $0.name == name } }
}

/// A part of an example's output that differs between runs for a reason
/// outside the example's control. The catalogue publishes each topic's rules
/// under `"normalize"` by their raw names; the golden tests implement one
/// function per rule and fail on a name they do not know, so a new case here
/// (process IDs, thread names, durations…) needs its function there.
enum Normalization: String, CaseIterable, Sendable {
    /// `clock time: …`, `loop  time: …` and `… invoked at …`: readings of the
    /// wall and monotonic clocks.
    case clockReadings = "clock-readings"
    /// Peer names such as `echo_127.0.0.1_51234`, `connecting to HOST` and
    /// `port N`: the server binds an ephemeral port, the client's is chosen
    /// by the kernel.
    case peerAddresses = "peer-addresses"
    /// `received b'…'` / `sent b'…'` lines: TCP may deliver the echoed bytes
    /// in different chunks on every run.
    case splitEchoChunks = "split-echo-chunks"
    /// `process started 4242`, `pid 4242`, `starting send_signals for
    /// 4242`: the kernel gives each process a new ID on every run.
    case processIDs = "process-ids"
    /// df's output: the file systems, their sizes and how many bytes each
    /// read returned depend on the machine.
    case diskUsage = "disk-usage"
    /// Lines logged by pool workers (`ThreadPoolExecutor-0_1`, `PID 4242`):
    /// which worker takes which call, and how their lines interleave with
    /// each other and with the main thread's, is up to the scheduler.
    case executorWorkers = "executor-workers"
    /// What a name resolves to, and what an address resolves back to,
    /// depend on the machine's /etc/hosts and resolver.
    case resolvedNames = "resolved-names"
    /// `Executing <Task …> took 0.101 seconds`: how long a step took, and
    /// whether a quick step crossed a 1 ms threshold, depend on the
    /// machine's load.
    case slowCallbacks = "slow-callbacks"
    /// In a trace, `select timeout=0.099` and `timer in 0.100s`: how long
    /// the loop waits differs by a millisecond from run to run; and `fd 7`:
    /// which descriptor a socket gets depends on what the process opened.
    case loopTimings = "loop-timings"
}

/// One example: a function that prints what the documentation's script prints.
struct Example: Sendable {
    let name: String
    /// What the example shows, in one sentence.
    let summary: String
    /// The asyncio APIs it mirrors, in Python spelling.
    let mirrors: String
    /// How the documentation's script configures logging.
    let logging: LogFormat
    /// Where its code is, for `--source`.
    let source: SourceSections
    let run: @Sendable () throws -> Void

    /// `sections` names the `// MARK:` sections of the file that hold the
    /// example's code; by default the one named as the example, in the
    /// file that declares it.
    init(name: String, summary: String, mirrors: String, logging: LogFormat = .unconfigured,
         sections: [String]? = nil, in file: String? = nil, fileID: String = #fileID,
         run: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.summary = summary
        self.mirrors = mirrors
        self.logging = logging
        self.source = SourceSections(file: file ?? String(fileID.split(separator: "/").last ?? ""),
                                     sections: sections ?? [name])
        self.run = run
    }

    /// Runs the example with its logging set up.
    func callAsFunction() throws {
        DemoLogging.use(logging)
        try run()
    }
}

/// The `// MARK:` sections of one topic file that make up an example.
struct SourceSections: Sendable {
    let file: String
    let sections: [String]
}

/// Every topic's command, in the documentation's order.
let topicCommands: [any TopicCommand.Type] = [
    ConceptsCommand.self, CoroutinesCommand.self, SchedulingCommand.self, FuturesCommand.self,
    TasksCommand.self, ControlCommand.self, LocksCommand.self, EchoServerCommand.self, SSLEchoCommand.self,
    SubprocessCommand.self, SignalsCommand.self, ExecutorsCommand.self, DNSCommand.self, DebugCommand.self,
]

let allTopics = topicCommands.map { $0.topic }

func topic(named name: String) -> Topic? {
    allTopics.first { $0.name == name || $0.aliases.contains(name) }
}
