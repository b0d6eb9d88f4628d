/// The loop's ready queue: callbacks and task steps, first in first out.
///
/// A ring buffer whose items are moved in and out, so an append or a
/// removal costs no reference count, and which is never shared, so no
/// uniqueness check either: it is the busiest structure of the loop. The
/// capacity is a power of two and doubles when full.
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

    /// Empties the queue and returns what it held, so that the items are
    /// freed by the caller, outside this queue's access: freeing one may
    /// run code that schedules more work.
    mutating func takeAll() -> [Item] {
        var items: [Item] = []
        items.reserveCapacity(count)
        while count > 0 { items.append(removeFirst()) }
        head = 0
        return items
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
