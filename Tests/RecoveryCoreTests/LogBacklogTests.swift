import Testing
@testable import RecoveryCore

@Suite("Log backlog")
struct LogBacklogTests {
    /// Takes every entry, in batches of `maxBytes`.
    private static func drain(_ backlog: inout LogBacklog, maxBytes: Int) -> [[LogBacklog.Entry]] {
        var batches: [[LogBacklog.Entry]] = []
        while true {
            let batch = backlog.takeBatch(maxBytes: maxBytes)
            if batch.isEmpty { return batches }
            batches.append(batch)
        }
    }

    @Test("past the byte bound lines are dropped, and each run of drops is one count in its place")
    func dropsPastTheBoundAndKeepsWhere() {
        var backlog = LogBacklog(limitBytes: 10)
        let kept = ["aaaa\n", "bbbb\n", "c\n", "d\n"].map { backlog.append($0) }
        #expect(kept == [true, true, false, false])
        #expect(backlog.bytes == 10)
        let first = backlog.takeBatch(maxBytes: 5)
        #expect(first == [.line("aaaa\n")])
        let keptAfter = ["eeee\n", "f\n"].map { backlog.append($0) }
        #expect(keptAfter == [true, false])
        let rest = Self.drain(&backlog, maxBytes: 100)
        #expect(rest == [[.line("bbbb\n")], [.dropped(2)], [.line("eeee\n")], [.dropped(1)]])
        #expect(backlog.droppedTotal == 3)
        #expect(backlog.bytes == 0)
        #expect(backlog.isEmpty)
    }

    @Test("a batch holds whole lines up to its size, a longer line alone, and never a count with lines")
    func batchesOfWholeLines() {
        var backlog = LogBacklog(limitBytes: 1_000)
        for line in ["12345\n", "123\n", "1234567890ab\n", "1\n"] { backlog.append(line) }
        #expect(Self.drain(&backlog, maxBytes: 10) == [
            [.line("12345\n"), .line("123\n")], [.line("1234567890ab\n")], [.line("1\n")],
        ])

        var full = LogBacklog(limitBytes: 4)
        full.append("ab\n")
        full.append("cd\n")
        #expect(Self.drain(&full, maxBytes: 100) == [[.line("ab\n")], [.dropped(1)]])
    }

    @Test("a drop after the held lines were taken starts a new count")
    func dropAfterTakeIsANewCount() {
        var backlog = LogBacklog(limitBytes: 3)
        backlog.append("ab\n")
        backlog.append("cd\n")
        #expect(Self.drain(&backlog, maxBytes: 100) == [[.line("ab\n")], [.dropped(1)]])
        backlog.append("toolong\n")
        #expect(Self.drain(&backlog, maxBytes: 100) == [[.dropped(1)]])
        #expect(backlog.droppedTotal == 2)
    }

    @Test("order and byte count hold over many appends and partial takes")
    func orderOverManyRounds() {
        var backlog = LogBacklog(limitBytes: 50_000)
        var written: [String] = []
        var next = 0
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 3) {
                backlog.append("line \(next)\n")
                next += 1
            }
            for entry in backlog.takeBatch(maxBytes: 40) {
                guard case .line(let line) = entry else { Issue.record("unexpected drop"); return }
                written.append(line)
            }
        }
        for batch in Self.drain(&backlog, maxBytes: 40) {
            for case .line(let line) in batch { written.append(line) }
        }
        #expect(written == (0..<next).map { "line \($0)\n" })
        #expect(backlog.bytes == 0)
    }
}
