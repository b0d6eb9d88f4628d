import Testing
@testable import AsyncIO
import TestSupport

/// The timer queue's heap, checked against sorting: mixed inserts and pops,
/// duplicates, and building a heap from an unordered array.
@Suite(.suiteLimit) struct TimerHeapTests {
    @Test func popsInSortedOrderWhileInsertsAndPopsInterleave() {
        var random = SplitMix(seed: 11)
        var heap = TimerHeap<Int>()
        // The mirror counts each value; values are small, so equal
        // elements meet often, and the smallest is found by a scan.
        var counts = [Int](repeating: 0, count: 500)
        var popped: [Int] = []
        var expected: [Int] = []
        func takeSmallest() -> Int {
            let value = counts.firstIndex { $0 > 0 }!
            counts[value] -= 1
            return value
        }
        for round in 0..<20_000 {
            let value = Int(random.next() % 500)
            heap.insert(value)
            counts[value] += 1
            if round % 3 == 0 {
                expected.append(takeSmallest())
                popped.append(heap.popMin()!)
            }
        }
        while let value = heap.popMin() {
            popped.append(value)
            expected.append(takeSmallest())
        }
        #expect(popped == expected)
        #expect(counts.allSatisfy { $0 == 0 })
        #expect(heap.isEmpty)
    }

    @Test func buildsAHeapFromUnorderedElements() {
        var random = SplitMix(seed: 12)
        for count in [0, 1, 2, 4, 5, 17, 1000] {
            let values = (0..<count).map { _ in Int(random.next() % 100) }
            var heap = TimerHeap(values)
            #expect(heap.count == count)
            var popped: [Int] = []
            while let value = heap.popMin() { popped.append(value) }
            #expect(popped == values.sorted(), "count \(count)")
        }
    }
}
