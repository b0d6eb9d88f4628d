#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// How a child process ended.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// What a finished child printed, and how it ended.
public struct ChildRun: Sendable {
    public let termination: Termination
    public let stdout: [UInt8]
    public let stderr: [UInt8]

    /// The exit status, or 128 + the signal, as a shell reports it.
    public var status: Int32 {
        switch termination {
        case .exited(let status): status
        case .signalled(let signal): 128 + signal
        }
    }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public struct SpawnError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// A child process started with `posix_spawn`, its standard output and
/// error on pipes read by the parent and its standard input on /dev/null.
/// Every descriptor of the parent is left out of the child except those
/// three (the pipes are close-on-exec in the parent), and the child starts
/// with default signal dispositions and an empty signal mask, whatever the
/// test runner set. Not thread-safe: one test drives one child.
public final class ChildProcess {
    public let pid: pid_t
    private var outputs: [Int32]  // stdout and stderr read ends; -1 once closed
    private var captured: [[UInt8]] = [[], []]
    private var lineStart = 0
    private var termination: Termination?

    public convenience init(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        try self.init(path, rawArguments: arguments.map { Array($0.utf8) }, environment: environment)
    }

    /// Arguments as bytes, which need not be UTF-8.
    public init(_ path: String, rawArguments arguments: [[UInt8]], environment: [String: String]? = nil) throws {
        var pipes: [(read: Int32, write: Int32)] = []
        for _ in 0..<2 {
            var ends: [Int32] = [0, 0]
            guard pipe2(&ends, O_CLOEXEC) == 0 else { throw SpawnError(message: "pipe2: \(String(cString: strerror(errno)))") }
            pipes.append((ends[0], ends[1]))
        }
        defer { for end in pipes { close(end.write) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[0].write, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[1].write, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let environment = environment ?? Self.currentEnvironment()
        let argv = ([Array(path.utf8)] + arguments).map { bytes in
            bytes.withUnsafeBufferPointer { buffer -> UnsafeMutablePointer<CChar>? in
                let copy = calloc(buffer.count + 1, 1)!.assumingMemoryBound(to: CChar.self)
                if let base = buffer.baseAddress { memcpy(copy, base, buffer.count) }
                return copy
            }
        } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard status == 0 else {
            for end in pipes { close(end.read) }
            throw SpawnError(message: "posix_spawn \(path): \(String(cString: strerror(status)))")
        }
        pid = child
        outputs = pipes.map(\.read)
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            _ = reap(blocking: true)
        }
        for fd in outputs where fd >= 0 { close(fd) }
    }

    /// The environment of this process, as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    /// Starts `path`, waits for it to end (killing it after `timeout`
    /// seconds) and returns what it printed.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Double = 120) throws -> ChildRun {
        let child = try ChildProcess(path, arguments, environment: environment)
        guard let termination = child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 10)
            throw SpawnError(message: "\(path) \(arguments.joined(separator: " ")) still running after \(timeout) s; killed")
        }
        return ChildRun(termination: termination, stdout: child.captured[0], stderr: child.captured[1])
    }

    public func signal(_ number: Int32) {
        if termination == nil { kill(pid, number) }
    }

    /// Everything the child has written to standard output so far.
    public var stdout: [UInt8] { captured[0] }
    public var stderr: [UInt8] { captured[1] }

    /// The next whole line of standard output, without its newline; nil if
    /// none arrives within `timeout` seconds or the output ends first.
    public func readLine(timeout: Double) -> String? {
        let deadline = now() + timeout
        while true {
            let pending = captured[0][lineStart...]
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lineStart = newline + 1
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            let left = deadline - now()
            guard left > 0, outputs[0] >= 0 else { return nil }
            pump(timeout: left)
        }
    }

    /// Closes the parent's end of standard output: the child's next write
    /// there fails (EPIPE, or SIGPIPE if it has not ignored it).
    public func closeStandardOutput() {
        if outputs[0] >= 0 {
            close(outputs[0])
            outputs[0] = -1
        }
    }

    /// Waits up to `timeout` seconds for the child to end, reading its
    /// output meanwhile; nil if it is still running.
    public func wait(timeout: Double) -> Termination? {
        let deadline = now() + timeout
        while termination == nil {
            if let ended = reap(blocking: false) {
                termination = ended
                // What is still in the pipes was written before the exit.
                while pump(timeout: 0.5) {}
                break
            }
            let left = deadline - now()
            if left <= 0 { return nil }
            if !pump(timeout: min(left, 0.02)) { usleep(1_000) }
        }
        return termination
    }

    /// Reads whatever the open pipes have, waiting up to `timeout` seconds.
    /// Returns whether anything was read or closed.
    @discardableResult
    private func pump(timeout: Double) -> Bool {
        guard outputs.contains(where: { $0 >= 0 }) else { return false }
        var polled = outputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&polled, nfds_t(polled.count), Int32(max(0, timeout) * 1000))
        guard ready > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        for (index, entry) in polled.enumerated() where entry.fd >= 0 && entry.revents != 0 {
            let count = read(entry.fd, &buffer, buffer.count)
            if count > 0 {
                captured[index] += buffer[..<count]
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                close(entry.fd)
                outputs[index] = -1
            }
        }
        return true
    }

    private func reap(blocking: Bool) -> Termination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { break }
            if result < 0, errno == EINTR { continue }
            return nil
        }
        // The macros are not visible to Swift: bits 0-6 are the signal, 8-15 the status.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    private func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
