import DequeModule

/// A flag that tasks can wait for (asyncio's `Event`): `set()` wakes every
/// waiting task at once, and while it stays set, `wait()` returns at once.
///
/// An event can be created anywhere; it binds to the running loop the
/// first time a task has to wait for it.
@LoopActor
public final class Event: @LoopActor CustomStringConvertible, ParkingLot {
    /// A task waiting for the flag: the continuation that wakes it, and,
    /// for a loop task, its identity, so that cancelling it can find it.
    struct Parked {
        let task: ObjectIdentifier?
        let continuation: UnsafeContinuation<Void, Never>
    }

    /// Whether the flag is set (asyncio's `is_set()`).
    @exclusivity(unchecked) public private(set) var isSet: Bool
    /// Tasks waiting for the flag, oldest first. A waiting task needs no
    /// future of its own (asyncio makes one per waiter): setting the flag
    /// wakes it directly, and cancelling it takes it out of this queue.
    private(set) var waiters = Deque<Parked>()
    private var binding = LoopBinding()

    public nonisolated init() {
        isSet = false
    }

    /// An event whose flag starts out set, for queues' `join()`.
    nonisolated init(isSet: Bool) {
        self.isSet = isSet
    }

    /// Sets the flag and wakes every waiting task, in the order they began
    /// to wait.
    public func set() {
        guard !isSet else { return }
        isSet = true
        guard let loop = binding.loop, !waiters.isEmpty else { return }
        for parked in waiters { loop.ready.append(.wakeUp(parked.continuation)) }
        waiters.removeAll()
    }

    /// Clears the flag; later calls of `wait()` suspend until `set()`.
    public func clear() {
        isSet = false
    }

    /// Returns at once if the flag is set, else suspends until `set()` is
    /// called. Throws `CancelledError` if the task is cancelled meanwhile.
    ///
    /// Inlined into the caller, as `Future.value` is: a call costs two
    /// executor checks.
    @inlinable @inline(__always)
    public func wait() async throws {
        if isSet { return }
        let loop = try bind()
        let task = currentTask()
        await _unsafeInheritExecutor_withUnsafeContinuation { park(task, $0, on: loop) }
        if let task, let cancelled = task.resumed() { throw cancelled }
    }

    @usableFromInline
    func bind() throws -> EventLoop {
        try binding.bind(owner: description)
    }

    @usableFromInline
    func park(_ task: (any AwaitingTask)?, _ continuation: UnsafeContinuation<Void, Never>, on loop: EventLoop) {
        loop.suspendedInRuntime = true
        guard let task else {
            waiters.append(Parked(task: nil, continuation: continuation))
            return
        }
        if task.parking(in: self, continuation) {
            waiters.append(Parked(task: ObjectIdentifier(task), continuation: continuation))
        }
    }

    /// Takes a cancelled task out of the queue; its continuation, or nil if
    /// it is not waiting (`set()` has woken it already).
    @usableFromInline
    func unpark(_ task: ObjectIdentifier) -> UnsafeContinuation<Void, Never>? {
        guard let index = waiters.firstIndex(where: { $0.task == task }) else { return nil }
        return waiters.remove(at: index).continuation
    }

    /// asyncio's repr: `<Event [unset, waiters:2]>`.
    public var description: String {
        var state = isSet ? "set" : "unset"
        if !waiters.isEmpty { state += ", waiters:\(waiters.count)" }
        return "<Event [\(state)]>"
    }
}
