import Foundation
import RecoveryCore
import Testing
@testable import Recovery

@Suite("Recorded results (the console's history)")
struct RecordedResultTests {
    let receivedAt = Date(timeIntervalSince1970: 1_796_000_000.25)

    @Test("a result and its receipt time come back as they were recorded, error included")
    func roundTrip() throws {
        let results = [
            JobResult(jobId: "j-1", endpointId: "e1", outcome: .recovered, instanceId: "w1", attempt: 1, durationMs: 12),
            JobResult(jobId: "j-2", endpointId: "e2", outcome: .retrying, instanceId: "w2", attempt: 3, durationMs: 5_001,
                      error: JobError(kind: .transient, message: "refused \"quoted\" ünïcode")),
        ]
        for result in results {
            let recorded = RecordedResult(result: result, receivedAt: receivedAt)
            let text = recorded.encoded()
            #expect(text.contains(#""receivedAt":"\#(Timestamp.format(receivedAt))""#))
            #expect(RecordedResult.decode(Data(text.utf8)) == recorded)
        }
    }

    @Test("an entry written with its keys sorted (receivedAt among them) still decodes; one that is not a result does not")
    func olderAndBrokenEntries() {
        let sorted = #"{"attempt":2,"durationMs":7,"error":null,"instanceId":"w1","jobId":"j-9","outcome":"skipped","receivedAt":"2026-12-07T03:00:00.000Z","serverId":"e9"}"#
        let decoded = RecordedResult.decode(Data(sorted.utf8))
        #expect(decoded?.result == JobResult(jobId: "j-9", endpointId: "e9", outcome: .skipped, instanceId: "w1", attempt: 2, durationMs: 7))
        #expect(decoded?.receivedAt == Timestamp.parse("2026-12-07T03:00:00.000Z"))
        #expect(RecordedResult.decode(Data(#"{"jobId":"j","receivedAt":"2026-12-07T03:00:00.000Z"}"#.utf8)) == nil)
        #expect(RecordedResult.decode(Data(#"{"attempt":2,"durationMs":7,"error":null,"instanceId":"w1","jobId":"j-9","outcome":"skipped","serverId":"e9"}"#.utf8)) == nil)
        #expect(RecordedResult.decode(Data("not json".utf8)) == nil)
    }
}
