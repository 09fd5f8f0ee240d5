import Foundation
import Testing
@testable import RecoveryCore

@Suite struct BrokerDeadLetterTests {
    let job = RecoveryJob(jobId: "job-1", endpointId: "server-1", reason: .missing, attempt: 3, enqueuedAt: Date(timeIntervalSince1970: 0))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aJobTheBrokerDeadLetteredIsADeadResultThatParksItsEndpointWhileItsMarkerNamesIt() throws {
        let letter = BrokerDeadLetter(job: job, publishedByThePool: false, reason: "delivery_limit", queue: "mcp.recovery.jobs")
        let (result, disposition) = try #require(letter.settlement(at: now, parkPeriod: 300))
        #expect(result.jobId == "job-1" && result.endpointId == "server-1" && result.attempt == 3)
        #expect(result.outcome == .dead && result.instanceId == BrokerDeadLetter.instanceId)
        #expect(result.error == JobError(kind: .transient, message: "dead-lettered by the broker (delivery_limit) from queue mcp.recovery.jobs"))
        #expect(disposition.onlyWhilePending && disposition.clearPending && !disposition.clearPark)
        let park = try #require(disposition.park)
        #expect(park.endpointId == "server-1" && park.kind == .transient && park.until == now.addingTimeInterval(300))
    }

    @Test func aLetterThePoolPublishedOrThatNamesNoJobNeedsNothing() {
        #expect(BrokerDeadLetter(job: job, publishedByThePool: true, reason: "exhausted", queue: nil).settlement(at: now, parkPeriod: 300) == nil)
        #expect(BrokerDeadLetter(job: nil, publishedByThePool: false, reason: "delivery_limit", queue: "q").settlement(at: now, parkPeriod: 300) == nil)
    }
}
