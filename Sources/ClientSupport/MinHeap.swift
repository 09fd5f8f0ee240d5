/// A binary min-heap: the least element comes out first. Equal elements come out in no promised order, so
/// an element that needs one (first scheduled, first out) carries a sequence number in its ordering.
public struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    public init() {}

    public var isEmpty: Bool { items.isEmpty }
    public var count: Int { items.count }
    /// The least element, left in place.
    public var first: Element? { items.first }

    public mutating func insert(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the least element.
    public mutating func popFirst() -> Element? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return first
    }

    /// Removes and returns, least first, every element for which `isDue` holds, stopping at the first that
    /// does not (`isDue` must hold for every element below one it holds for, as "deadline ≤ now" does).
    public mutating func popWhile(_ isDue: (Element) -> Bool) -> [Element] {
        var popped: [Element] = []
        while let first = items.first, isDue(first) { popped.append(popFirst()!) }
        return popped
    }

    public mutating func removeAll() {
        items.removeAll()
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var least = parent
            if left < items.count, items[left] < items[least] { least = left }
            if right < items.count, items[right] < items[least] { least = right }
            guard least != parent else { return }
            items.swapAt(parent, least)
            parent = least
        }
    }
}

extension MinHeap: Sendable where Element: Sendable {}
