/// The loop's ready queue: callbacks and task steps, first in first out.
///
/// A ring buffer that moves items in and out. `Deque` copies an item on
/// the way in (a retain, and a release by the caller) and checks that its
/// storage is unshared on every append and removal; the ready queue is
/// the busiest structure of the loop, so it does neither. The capacity is
/// a power of two and doubles when full.
struct ReadyQueue: ~Copyable {
    typealias Item = EventLoop.ReadyItem

    private var storage: UnsafeMutablePointer<Item>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        let toEnd = min(count, capacity - head)
        (storage + head).deinitialize(count: toEnd)
        storage.deinitialize(count: count - toEnd)
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func append(_ item: consuming Item) {
        if _slowPath(count == capacity) { grow() }
        (storage + ((head + count) & (capacity - 1))).initialize(to: item)
        count += 1
    }

    /// The oldest item; the queue must not be empty.
    @inline(__always)
    mutating func removeFirst() -> Item {
        precondition(count > 0, "removeFirst() on an empty ready queue")
        let item = (storage + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return item
    }

    mutating func removeAll() {
        while count > 0 { _ = removeFirst() }
        head = 0
    }

    private mutating func grow() {
        let larger = UnsafeMutablePointer<Item>.allocate(capacity: capacity * 2)
        let toEnd = min(count, capacity - head)
        larger.moveInitialize(from: storage + head, count: toEnd)
        (larger + toEnd).moveInitialize(from: storage, count: count - toEnd)
        storage.deallocate()
        storage = larger
        capacity *= 2
        head = 0
    }
}
