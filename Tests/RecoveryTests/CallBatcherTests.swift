import Synchronization
import Testing
@testable import Recovery

@Suite("Call batcher")
struct CallBatcherTests {
    struct Refused: Error {}

    @Test("calls made while a batch runs go together in the next, each answered with its own answer")
    func callsDuringABatchGoTogether() async throws {
        let batches = Mutex<[[Int]]>([])
        let batcher = CallBatcher<Int, String>(maximumBatch: 50) { requests in
            batches.withLock { $0.append(requests) }
            try await Task.sleep(for: .milliseconds(20))
            return requests.map { "answer \($0)" }
        }
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<200 { group.addTask { (i, try await batcher.call(i)) } }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 200)
        #expect(answers.allSatisfy { $0.value == "answer \($0.key)" })
        let sizes = batches.withLock { $0.map(\.count) }
        #expect(sizes.reduce(0, +) == 200)
        #expect(sizes.allSatisfy { $0 <= 50 })
        #expect(sizes.count < 200, "some calls were batched: \(sizes)")
    }

    @Test("a lone call runs at once, alone")
    func aLoneCallRunsAlone() async throws {
        let batches = Mutex<[[Int]]>([])
        let batcher = CallBatcher<Int, Int> { requests in
            batches.withLock { $0.append(requests) }
            return requests.map { $0 * 2 }
        }
        #expect(try await batcher.call(21) == 42)
        #expect(try await batcher.call(5) == 10)
        #expect(batches.withLock { $0 } == [[21], [5]])
    }

    @Test("a batch that fails fails its own calls only")
    func aFailedBatchFailsItsCallsOnly() async throws {
        let batcher = CallBatcher<Int, Int> { requests in
            if requests.contains(-1) { throw Refused() }
            return requests
        }
        await #expect(throws: Refused.self) { try await batcher.call(-1) }
        #expect(try await batcher.call(7) == 7)
    }
}
