import DequeModule
import HeapModule

/// A first-in, first-out queue for coordinating producer and consumer tasks
/// (asyncio's `Queue`).
///
/// With `maxsize` above 0 the queue holds at most that many items and
/// `put` suspends while it is full; `get` suspends while it is empty.
/// Waiting producers and consumers are served in the order they came.
/// `taskDone()` and `join()` count the items put that have not been
/// processed yet, so a producer can wait until every item has been handled.
///
/// `PriorityQueue` and `LifoQueue` change only the order in which items
/// come out, as in asyncio, where they override the storage methods. The
/// class is not final for them alone; it cannot be subclassed elsewhere.
///
/// A queue can be created anywhere; it binds to the running loop the first
/// time a task has to wait on it.
@LoopActor
public class Queue<Element>: @LoopActor CustomStringConvertible {
    /// Which item `get` takes: the subclasses only change this.
    @usableFromInline
    enum Order: UInt8, Sendable { case fifo, lifo, priority }

    // Performance: the put and get paths are inlinable, the state they
    // touch is usable from inlinable code, and everything but the priority
    // hooks is `final`, so that a caller in another module gets code
    // specialized for its element type instead of a call through the class
    // table into generic code, which spends most of its time looking up
    // type metadata (specialized, a queue moves about four times as many
    // items per second).
    // The state is `@exclusivity(unchecked)`: it is only touched on the loop
    // thread and never through overlapping accesses (waking a waiter only
    // queues it), and the dynamic checks cost a fifth of a put.

    /// How many items the queue holds at most; 0 or less means no limit.
    public nonisolated final let maxsize: Int
    @usableFromInline nonisolated final let order: Order
    /// The items of a FIFO or LIFO queue; `PriorityQueue` keeps its own.
    @usableFromInline @exclusivity(unchecked) final var items = Deque<Element>()
    /// Tasks waiting in `get` and in `put`, oldest first. Waking one takes
    /// it out of its line (unlike the locks, whose waiters remove
    /// themselves), so a line holds only tasks that still need a wake-up,
    /// plus cancelled ones about to remove themselves.
    @usableFromInline @exclusivity(unchecked) final var getters = Deque<Waiter>()
    @usableFromInline @exclusivity(unchecked) final var putters = Deque<Waiter>()
    /// Items put and not yet marked done with `taskDone()`.
    @usableFromInline @exclusivity(unchecked) final var unfinishedTasks = 0
    /// Set while `unfinishedTasks` is 0; `join()` waits for it.
    @usableFromInline final let finished = Event(isSet: true)
    @usableFromInline @exclusivity(unchecked) final var isShutDown = false
    private var binding = LoopBinding()

    /// A queue holding at most `maxsize` items; 0 (the default) or less
    /// means no limit.
    public nonisolated convenience init(maxsize: Int = 0) {
        self.init(maxsize: maxsize, order: .fifo)
    }

    @usableFromInline
    nonisolated init(maxsize: Int, order: Order) {
        self.maxsize = maxsize
        self.order = order
    }

    // MARK: Storage

    /// Number of items in the queue (asyncio's `qsize()`).
    @inlinable
    public final var qsize: Int { order == .priority ? priorityCount : items.count }

    @inlinable
    final func store(_ item: Element) {
        if order == .priority { priorityStore(item) } else { items.append(item) }
    }

    @inlinable
    final func take() -> Element {
        switch order {
        case .fifo: items.removeFirst()
        case .lifo: items.removeLast()
        case .priority: priorityTake()
        }
    }

    // What `PriorityQueue` overrides; a heap needs `Element: Comparable`,
    // which only the subclass knows.
    @usableFromInline var priorityCount: Int { 0 }
    @usableFromInline func priorityStore(_ item: Element) { preconditionFailure("not a priority queue") }
    @usableFromInline func priorityTake() -> Element { preconditionFailure("not a priority queue") }

    /// The items in storage order, for the description.
    var storedItems: [Element] { Array(items) }

    final var typeName: String {
        switch order {
        case .fifo: "Queue"
        case .lifo: "LifoQueue"
        case .priority: "PriorityQueue"
        }
    }

    // MARK: State

    /// Whether the queue holds no items (asyncio's `empty()`).
    @inlinable
    public final var isEmpty: Bool { qsize == 0 }

    /// Whether the queue holds `maxsize` items; never true without a limit
    /// (asyncio's `full()`).
    @inlinable
    public final var isFull: Bool { maxsize > 0 && qsize >= maxsize }

    // MARK: Putting

    /// Puts `item` at the end of the queue, first suspending while the
    /// queue is full. Throws `QueueShutDown` if the queue is shut down, and
    /// `CancelledError` if the task is cancelled while waiting (the item is
    /// then not put).
    @inlinable
    public final func put(_ item: Element) async throws {
        while isFull { try await waitForRoom() }
        try putNowait(item)
    }

    /// Suspends until a `get` (or `shutdown`) wakes this task.
    @usableFromInline
    final func waitForRoom() async throws {
        try await wait(in: \.putters) { $0.isFull }
    }

    /// Puts `item` without waiting; throws `QueueFull` if there is no room
    /// and `QueueShutDown` if the queue is shut down.
    @inlinable
    public final func putNowait(_ item: Element) throws {
        if isShutDown { throw QueueShutDown() }
        if isFull { throw QueueFull() }
        store(item)
        unfinishedTasks += 1
        if unfinishedTasks == 1 { finished.clear() }
        if !getters.isEmpty { wakeUpNext(&getters) }
    }

    // MARK: Getting

    /// Removes and returns the next item, first suspending while the queue
    /// is empty. Throws `QueueShutDown` once the queue is shut down and
    /// empty, and `CancelledError` if the task is cancelled while waiting
    /// (no item is then taken).
    @inlinable
    public final func get() async throws -> Element {
        while isEmpty { try await waitForItem() }
        return try getNowait()
    }

    /// Suspends until a `put` (or `shutdown`) wakes this task.
    @usableFromInline
    final func waitForItem() async throws {
        try await wait(in: \.getters) { $0.isEmpty }
    }

    /// Waits in `line` (the getters or the putters) until woken. A waiter
    /// woken and then cancelled before it ran passes its turn to the next
    /// in line unless the queue is `blocked` again: otherwise the item (or
    /// the free slot) it was woken for would sit unused while they wait.
    /// Inlined so that a waiting task has no extra frame.
    @inline(__always)
    private final func wait(
        in line: ReferenceWritableKeyPath<Queue, Deque<Waiter>>, blocked: (Queue) -> Bool
    ) async throws {
        if isShutDown { throw QueueShutDown() }
        let waiter = try binding.makeWaiter(for: description)
        self[keyPath: line].append(waiter)
        do {
            try await waiter.value
        } catch {
            waiter.cancel()
            self[keyPath: line].remove(waiter)
            if !blocked(self), !waiter.isCancelled { wakeUpNext(&self[keyPath: line]) }
            throw error
        }
    }

    /// Removes and returns the next item without waiting; throws
    /// `QueueEmpty` if there is none, `QueueShutDown` if the queue is also
    /// shut down.
    @inlinable
    public final func getNowait() throws -> Element {
        if isEmpty { throw isShutDown ? QueueShutDown() as any Error : QueueEmpty() }
        let item = take()
        if !putters.isEmpty { wakeUpNext(&putters) }
        return item
    }

    /// Takes the first waiter of `line` that is not done out of it and wakes it.
    @usableFromInline
    final func wakeUpNext(_ line: inout Deque<Waiter>) {
        while let waiter = line.popFirst() {
            if !waiter.isDone {
                waiter.succeed()
                return
            }
        }
    }

    // MARK: Accounting

    /// Marks one item taken from the queue as processed (asyncio's
    /// `task_done()`); once every item put has been, `join()` returns.
    /// Throws `SynchronizationError.taskDoneTooManyTimes` if called more
    /// often than items were put.
    @inlinable
    public final func taskDone() throws {
        guard unfinishedTasks > 0 else { throw SynchronizationError.taskDoneTooManyTimes }
        unfinishedTasks -= 1
        if unfinishedTasks == 0 { finished.set() }
    }

    /// Suspends until every item put has been marked done with `taskDone()`.
    public final func join() async throws {
        if unfinishedTasks > 0 { try await finished.wait() }
    }

    // MARK: Shutting down

    /// Shuts the queue down (Python 3.13's `shutdown`): from now on `put`
    /// throws `QueueShutDown`, and `get` does once the queue is empty.
    /// Every task waiting in `put` or `get` wakes up to find out.
    ///
    /// With `immediate`, the items left are dropped and counted as done,
    /// which may let `join()` return, and `get` throws at once.
    public final func shutdown(immediate: Bool = false) {
        isShutDown = true
        if immediate {
            while !isEmpty {
                _ = take()
                if unfinishedTasks > 0 { unfinishedTasks -= 1 }
            }
            if unfinishedTasks == 0 { finished.set() }
        }
        for line in [getters, putters] {
            for waiter in line where !waiter.isDone { waiter.succeed() }
        }
        getters.removeAll()
        putters.removeAll()
    }

    // MARK: Description

    /// asyncio's `str()`: `<Queue maxsize=2 _queue=[1, 2] _getters[1] tasks=2>`.
    public final var description: String {
        var text = "<\(typeName) maxsize=\(maxsize)"
        let stored = storedItems
        if !stored.isEmpty { text += " _queue=\(pythonRepr(any: stored))" }
        if !getters.isEmpty { text += " _getters[\(getters.count)]" }
        if !putters.isEmpty { text += " _putters[\(putters.count)]" }
        if unfinishedTasks > 0 { text += " tasks=\(unfinishedTasks)" }
        if isShutDown { text += " shutdown" }
        return text + ">"
    }
}

/// A queue that hands out the smallest item first (asyncio's
/// `PriorityQueue`). Items of equal priority come out in no set order; to
/// keep insertion order among them, make it part of the comparison.
@LoopActor
public final class PriorityQueue<Element: Comparable>: Queue<Element> {
    private var heap = Heap<Element>()

    public nonisolated init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, order: .priority)
    }

    override var priorityCount: Int { heap.count }
    override func priorityStore(_ item: Element) { heap.insert(item) }
    override func priorityTake() -> Element { heap.removeMin() }
    override var storedItems: [Element] { Array(heap.unordered) }
}

/// A queue that hands out the most recently put item first (asyncio's
/// `LifoQueue`).
@LoopActor
public final class LifoQueue<Element>: Queue<Element> {
    public nonisolated init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, order: .lifo)
    }
}
