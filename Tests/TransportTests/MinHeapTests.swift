import ClientSupport
import Testing

@Suite("Min-heap")
struct MinHeapTests {
    @Test("elements come out least first whatever order they went in")
    func popsInOrder() {
        var generator = SystemRandomNumberGenerator()
        let values = (0..<500).map { _ in Int.random(in: -1000...1000, using: &generator) }
        var heap = MinHeap<Int>()
        for value in values { heap.insert(value) }
        #expect(heap.count == values.count)
        #expect(heap.first == values.min())
        var out: [Int] = []
        while let value = heap.popFirst() { out.append(value) }
        #expect(out == values.sorted())
        #expect(heap.isEmpty)
        #expect(heap.popFirst() == nil)
    }

    @Test("popWhile takes the due elements, least first, and leaves the rest")
    func popWhileStopsAtTheFirstNotDue() {
        var heap = MinHeap<Int>()
        for value in [9, 3, 7, 1, 5, 3] { heap.insert(value) }
        #expect(heap.popWhile { $0 <= 4 } == [1, 3, 3])
        #expect(heap.popWhile { $0 <= 4 }.isEmpty)
        #expect(heap.first == 5)
        heap.insert(2)
        #expect(heap.popWhile { $0 < 8 } == [2, 5, 7])
        heap.removeAll()
        #expect(heap.isEmpty)
    }
}
