/// The log lines a process has rendered and not yet written, bounded in bytes. A log reader that stops
/// reading (a paused shipper, a full pipe) must not stop the threads that log: past the bound, lines are
/// dropped, and each run of dropped lines is kept as one count in its place, so the reader learns how
/// many are missing and where.
public struct LogBacklog: Sendable {
    public enum Entry: Sendable, Equatable {
        case line(String)
        /// This many lines were dropped here, between the lines before and after it.
        case dropped(Int)
    }

    /// The most bytes of lines held at once.
    public let limitBytes: Int
    /// Bytes of the lines held now.
    public private(set) var bytes = 0
    /// Lines dropped since the start.
    public private(set) var droppedTotal = 0
    private var entries: [Entry] = []
    private var head = 0

    public init(limitBytes: Int) {
        self.limitBytes = max(1, limitBytes)
    }

    public var isEmpty: Bool { head == entries.count }

    /// Keeps `line` unless that would hold more than `limitBytes`; returns whether it was kept.
    @discardableResult
    public mutating func append(_ line: String) -> Bool {
        let size = line.utf8.count
        guard bytes + size <= limitBytes else {
            droppedTotal += 1
            if head < entries.count, case .dropped(let count) = entries[entries.count - 1] {
                entries[entries.count - 1] = .dropped(count + 1)
            } else {
                entries.append(.dropped(1))
            }
            return false
        }
        bytes += size
        entries.append(.line(line))
        return true
    }

    /// The oldest entries, for one write: lines up to `maxBytes` together (a longer line alone), or one
    /// count of dropped lines alone. Empty when nothing is held.
    public mutating func takeBatch(maxBytes: Int) -> [Entry] {
        var batch: [Entry] = []
        var size = 0
        while head < entries.count {
            let entry = entries[head]
            switch entry {
            case .dropped:
                guard batch.isEmpty else { return finish(batch) }
                batch.append(entry)
                head += 1
                return finish(batch)
            case .line(let line):
                let length = line.utf8.count
                guard batch.isEmpty || size + length <= maxBytes else { return finish(batch) }
                batch.append(entry)
                size += length
                bytes -= length
                head += 1
            }
        }
        return finish(batch)
    }

    /// Drops the taken entries' storage once they are most of it, so the array does not only grow.
    private mutating func finish(_ batch: [Entry]) -> [Entry] {
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.count <= 1_024)
            head = 0
        } else if head > 1_024, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return batch
    }
}
