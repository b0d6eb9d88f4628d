#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

#if canImport(Glibc)
private let systemKill = Glibc.kill
#else
private let systemKill = Musl.kill
#endif

/// How one of the child's first descriptors (0, 1, 2, and 3 for a
/// process-pool worker) is set up.
enum ChildDescriptor {
    /// The parent's own.
    case inherit
    case devNull
    /// A copy of this parent descriptor (a pipe end, or one the caller gave).
    case copy(Int32)
    /// A copy of another of the child's standard descriptors, set up before
    /// this one (stderr to stdout).
    case sameAs(Int32)
}

/// Starting and reaping child processes.
enum Spawn {
    /// Starts `program` with `arguments` (argv[0] is `name`, by default the
    /// program), without a shell. A program name without a slash is looked
    /// up in `PATH`.
    ///
    /// The child gets descriptors 0 to n-1 as the n `descriptors` say and no
    /// other (everything from n up is closed, as Python's `close_fds`), an
    /// empty signal mask and every signal's default action, as a program
    /// expects to start. glibc's `posix_spawn` reports a failed `exec` with
    /// its errno, so a missing or non-executable program is an error here,
    /// not a child that exits 127.
    ///
    /// A `.copy` source equal to its target (a pipe end that happens to
    /// have that number) is kept too: glibc clears its close-on-exec flag
    /// for such a `dup2`, as POSIX asks.
    static func start(program: String, arguments: [String], name: String? = nil, environment: [String: String]?,
                      directory: String?, descriptors: [ChildDescriptor]) throws(OSError) -> pid_t {
        // The child's descriptors are set up in order, 0 first: a source
        // numbered below the last target could be overwritten before it is
        // copied, so such sources are copied above them first, as CPython does.
        var scratch: [Int32] = []
        defer { for fd in scratch { SystemCall.close(fd) } }
        var descriptors = descriptors
        for (index, descriptor) in descriptors.enumerated() {
            guard case .copy(let fd) = descriptor else { continue }
            guard fcntl(fd, F_GETFD) >= 0 else {
                throw OSError(errno: EBADF, operation: "descriptor \(fd) for the child's descriptor \(index)")
            }
            if fd < Int32(descriptors.count), fd != Int32(index) {
                let copy = fcntl(fd, F_DUPFD_CLOEXEC, Int32(descriptors.count))
                guard copy >= 0 else { throw OSError(errno: errno, operation: "fcntl(F_DUPFD_CLOEXEC)") }
                scratch.append(copy)
                descriptors[index] = .copy(copy)
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, descriptor) in descriptors.enumerated() {
            let target = Int32(target)
            switch descriptor {
            case .inherit: break
            case .devNull: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
            case .copy(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .sameAs(let other): posix_spawn_file_actions_adddup2(&actions, other, target)
            }
        }
        posix_spawn_file_actions_addclosefrom_np(&actions, Int32(max(3, descriptors.count)))
        if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        sigdelset(&everySignal, SIGKILL)
        sigdelset(&everySignal, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([name ?? program] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for entry in envp ?? [] { free(entry) } }

        var pid = pid_t()
        let status = envp.withOptionalPointer { envp in
            let envp = envp ?? UnsafePointer(environ)
            return program.contains("/")
                ? posix_spawn(&pid, program, &actions, &attributes, argv, envp)
                : posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        }
        guard status == 0 else { throw startFailure(status, program: program, directory: directory) }
        return pid
    }

    /// Names what could not be used, as Python does: the working directory
    /// if that is what is missing or not enterable, else the program.
    private static func startFailure(_ error: Int32, program: String, directory: String?) -> OSError {
        if let directory, access(directory, X_OK) != 0 {
            return OSError(errno: errno, operation: "chdir", filename: directory)
        }
        return OSError(errno: error, operation: "posix_spawn", filename: program)
    }

    /// Sends `signal` to the child `pid`. The caller must know the child is
    /// not reaped yet: after `reap`, the PID may name another process.
    static func send(_ signal: Int32, to pid: pid_t) throws(OSError) {
        _ = try SystemCall.run("kill") { systemKill(pid, signal) }
    }

    /// The child's return code once it has ended, as Python reports it:
    /// its exit status, or minus the signal that killed it; nil while it
    /// still runs (only when not `blocking`).
    static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return returncode(fromWaitStatus: status) }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            // ECHILD: someone else reaped it, and its status went with them.
            asyncioLogger.warning("Unknown child process pid \(pid), will report returncode 255")
            return 255
        }
    }

    /// Decodes a `waitpid` status (the W* macros are not visible to Swift).
    static func returncode(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : -signal
    }
}

extension Optional where Wrapped == [UnsafeMutablePointer<CChar>?] {
    /// Calls `body` with a C array of strings, or nil.
    fileprivate func withOptionalPointer<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
