import Foundation
import Testing
@testable import RecoveryCore

@Suite struct ResultDispositionTests {
    let now = Date(timeIntervalSince1970: 5_000)
    let row = Date(timeIntervalSince1970: 100)

    func result(_ outcome: JobOutcome, _ error: JobError? = nil) -> JobResult {
        JobResult(jobId: "j", endpointId: "s", outcome: outcome, instanceId: "w", attempt: 4, durationMs: 12, error: error)
    }

    func disposition(_ result: JobResult) -> ResultDisposition {
        ResultDisposition.of(result, at: now, endpointUpdatedAt: row, parkPeriod: 600)
    }

    @Test func recoveredClearsPendingAndPark() {
        #expect(disposition(result(.recovered)) == ResultDisposition(clearPending: true, clearPark: true))
    }

    @Test func skippedAndStoppedClearPending() {
        #expect(disposition(result(.skipped)) == ResultDisposition(clearPending: true))
        #expect(disposition(result(.stopped)) == ResultDisposition(clearPending: true))
    }

    @Test func retryingKeepsThePendingMarkerAlive() {
        #expect(disposition(result(.retrying, JobError(kind: .transient, message: "refused"))) == ResultDisposition(refreshPending: true))
    }

    @Test func deadAfterPermanentFailureParksWithoutEnd() throws {
        let park = try #require(disposition(result(.dead, JobError(kind: .permanent, message: "HTTP 401"))).park)
        #expect(park == ParkedEndpoint(endpointId: "s", reason: "HTTP 401", kind: .permanent, parkedAt: now, until: nil, endpointUpdatedAt: row))
    }

    @Test func deadAfterTransientFailuresParksForThePeriod() throws {
        let outcome = disposition(result(.dead, JobError(kind: .transient, message: "timed out during connect")))
        #expect(outcome.clearPending)
        #expect(outcome.park?.until == now.addingTimeInterval(600))
        #expect(outcome.park?.kind == .transient)
    }

    @Test func deadWithoutErrorStillParks() {
        #expect(disposition(result(.dead)).park?.reason == "dead-lettered after attempt 4")
    }
}

@Suite struct InstanceIdTests {
    @Test func hasTheOriginalsShapeAndIsAValidQueueSuffix() throws {
        let uuid = try #require(UUID(uuidString: "9C0D4F1E-1111-2222-3333-444455556666"))
        let id = WorkerRecord.makeInstanceId(host: "pool worker/1", pid: 4242, uuid: uuid)
        #expect(id == "pool-worker-1:4242:9c0d4f1e111122223333444455556666")
        #expect(throws: Never.self) { try Topology().controlQueue(instanceId: id) }
    }

    @Test func emptyHostBecomesWorker() {
        #expect(WorkerRecord.makeInstanceId(host: "", pid: 1, uuid: UUID()).hasPrefix("worker:1:"))
    }
}
