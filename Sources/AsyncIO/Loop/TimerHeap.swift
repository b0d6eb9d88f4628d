/// The timer queue's min-heap: four children per node, so a heap of
/// 100,000 timers is nine levels deep instead of seventeen, and the
/// children compared at each level sit side by side in memory. Elements are
/// moved along a hole rather than swapped, so popping a timer neither
/// copies nor retains what it refers to.
///
/// (swift-collections' `Heap` is a min-max heap, which pays for its `max`
/// with a second comparison per level; the timer queue only needs `min`.)
struct TimerHeap<Element: Comparable> {
    private static var arity: Int { 4 }

    /// In heap order; `elements.first` is the smallest.
    private(set) var elements: ContiguousArray<Element> = []

    init() {}

    /// Builds a heap from elements in any order, in linear time.
    init(_ unordered: some Sequence<Element>) {
        elements = ContiguousArray(unordered)
        guard elements.count > 1 else { return }
        elements.withUnsafeMutableBufferPointer { buffer in
            for index in stride(from: Self.parent(of: buffer.count - 1), through: 0, by: -1) {
                Self.siftDown(buffer, from: index, placing: (buffer.baseAddress! + index).move())
            }
        }
    }

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }
    /// The smallest element, left in place.
    var min: Element? { elements.first }

    mutating func insert(_ element: Element) {
        elements.append(element)
        elements.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            var hole = buffer.count - 1
            let element = (base + hole).move()
            while hole > 0 {
                let parent = Self.parent(of: hole)
                guard element < base[parent] else { break }
                (base + hole).moveInitialize(from: base + parent, count: 1)
                hole = parent
            }
            (base + hole).initialize(to: element)
        }
    }

    /// Removes and returns the smallest element.
    mutating func popMin() -> Element? {
        guard let last = elements.popLast() else { return nil }
        if elements.isEmpty { return last }
        return elements.withUnsafeMutableBufferPointer { buffer in
            let smallest = buffer.baseAddress!.move()
            Self.siftDown(buffer, from: 0, placing: last)
            return smallest
        }
    }

    /// Fills the hole at `hole` (uninitialized memory) with `element`. The
    /// hole first sinks along the smallest children to the bottom, without
    /// comparing them to `element`, which then rises from there: an element
    /// taken from the end of the heap nearly always belongs near the bottom,
    /// so this saves a comparison per level.
    private static func siftDown(_ buffer: UnsafeMutableBufferPointer<Element>, from start: Int, placing element: Element) {
        let base = buffer.baseAddress!
        let count = buffer.count
        var hole = start
        while true {
            let first = hole * arity + 1
            guard first < count else { break }
            var smallest = first
            for child in first + 1 ..< Swift.min(first + arity, count) where base[child] < base[smallest] {
                smallest = child
            }
            (base + hole).moveInitialize(from: base + smallest, count: 1)
            hole = smallest
        }
        while hole > start {
            let parent = Self.parent(of: hole)
            guard element < base[parent] else { break }
            (base + hole).moveInitialize(from: base + parent, count: 1)
            hole = parent
        }
        (base + hole).initialize(to: element)
    }

    private static func parent(of index: Int) -> Int { (index - 1) / arity }
}
