import Foundation
import JSON
import Testing
@testable import RecoveryCore

/// Builders for planner inputs.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 2_000_000_000)
    static let policy = ReconcilePolicy(heartbeatTimeout: 90, reconnectCooldown: 60, parkPeriod: 3600)

    static func endpoint(_ id: EndpointID, updatedAt: Date? = Date(timeIntervalSince1970: 1_000_000_000)) -> EnabledEndpoint {
        EnabledEndpoint(id: id, name: "name-\(id)", updatedAt: updatedAt)
    }

    static func state(_ id: EndpointID, heartbeatAgo: TimeInterval = 10, status: ConnectionStatus = .connected,
                      pool: Bool = true, instance: String = "worker-1") -> ConnectionState {
        ConnectionState(endpointId: id, instanceId: instance, status: status, lastHeartbeat: now.addingTimeInterval(-heartbeatAgo),
                        endpointName: "name-\(id)", webSocketEndpoint: "wss://x/mcp/?token=t", owner: pool ? ConnectionState.poolOwner : nil,
                        fence: pool ? 1 : nil)
    }

    static func observed(_ state: ConnectionState, lease: Bool) -> LiveObservation {
        LiveObservation(state: .decoded(state, raw: state.encoded()), leaseHeld: lease)
    }

    static func plan(
        _ enabled: [EnabledEndpoint], _ observations: [EndpointID: LiveObservation] = [:], pending: [EndpointID: String] = [:],
        jobQueuesIdle: Bool = false,
        parked: [EndpointID: ParkedEndpoint] = [:], lastAttempts: [EndpointID: Date] = [:], policy: ReconcilePolicy = policy
    ) -> ReconcilePlan {
        ReconcilePlanner(policy: policy).plan(ReconcileInput(
            enabled: enabled, observations: observations, pending: pending, jobQueuesIdle: jobQueuesIdle, parked: parked,
            lastAttempts: lastAttempts, now: now))
    }
}

@Suite struct ReconcilePlannerTests {
    typealias F = Fixture

    @Test func enabledWithoutStateIsMissingAndEnqueued() {
        let plan = F.plan([F.endpoint("a")])
        #expect(plan.jobs == [PlannedJob(endpointId: "a", endpointName: "name-a", reason: .missing)])
        #expect(plan.report.missing == ["a"])
        #expect(plan.report.enqueued == ["a"])
    }

    @Test func poolStateWithLeaseAndFreshHeartbeatIsLive() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a"), lease: true)])
        #expect(plan.jobs.isEmpty)
        #expect(plan.staleStates.isEmpty)
        #expect(plan.report.live == ["a"])
    }

    @Test func originalsStateWithoutLeaseAndFreshHeartbeatIsLive() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", pool: false), lease: false)])
        #expect(plan.jobs.isEmpty)
        #expect(plan.report.live == ["a"])
    }

    @Test func connectingStatusCountsAsLive() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", status: .connecting), lease: true)])
        #expect(plan.report.live == ["a"])
    }

    @Test func poolStateWhoseLeaseIsGoneIsStale() {
        let state = F.state("a")
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(state, lease: false)])
        #expect(plan.jobs == [PlannedJob(endpointId: "a", endpointName: "name-a", reason: .stale, staleReason: .leaseLost)])
        #expect(plan.staleStates == [StaleState(endpointId: "a", reason: .leaseLost, storedValue: state.encoded())])
        #expect(plan.report.stale == ["a"])
    }

    @Test func heartbeatOlderThanTheTimeoutIsStale() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", heartbeatAgo: 91, pool: false), lease: false)])
        #expect(plan.jobs.first?.staleReason == .heartbeatExpired)
        #expect(plan.staleStates.map(\.reason) == [.heartbeatExpired])
    }

    @Test func heartbeatExactlyAtTheTimeoutIsStillLive() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", heartbeatAgo: 90, pool: false), lease: false)])
        #expect(plan.report.live == ["a"])
    }

    @Test func heartbeatInTheFutureCountsAsFresh() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", heartbeatAgo: -30), lease: true)])
        #expect(plan.report.live == ["a"])
    }

    @Test(arguments: [ConnectionStatus.disconnected, .failed])
    func disconnectedOrFailedStateIsStale(status: ConnectionStatus) {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a", status: status, pool: false), lease: false)])
        #expect(plan.jobs.first?.staleReason == .notConnected)
    }

    @Test func unreadableStateIsStaleAndDeletedByItsRawValue() {
        let plan = F.plan([F.endpoint("a")], ["a": LiveObservation(state: .unreadable(raw: "{garbage"), leaseHeld: false)])
        #expect(plan.staleStates == [StaleState(endpointId: "a", reason: .unreadable, storedValue: "{garbage")])
        #expect(plan.jobs.map(\.reason) == [.stale])
    }

    @Test func leaseWithoutStateIsConnectingAndNotEnqueued() {
        let plan = F.plan([F.endpoint("a")], ["a": LiveObservation(state: .absent, leaseHeld: true, indexed: false)])
        #expect(plan.jobs.isEmpty)
        #expect(plan.report.connecting == ["a"])
        #expect(plan.report.missing.isEmpty)
    }

    @Test func pendingMarkerBlocksEnqueue() {
        let plan = F.plan([F.endpoint("a"), F.endpoint("b")], pending: ["a": "job-a"])
        #expect(plan.jobs.map(\.endpointId) == ["b"])
        #expect(plan.report.pending == ["a"])
        #expect(plan.report.missing == ["a", "b"])
        #expect(plan.lostPendingMarkers.isEmpty)
    }

    @Test func aPendingMarkerWhileNoJobWaitsAnywhereIsLostAndTheEndpointQueuedAgain() {
        let plan = F.plan([F.endpoint("a"), F.endpoint("b"), F.endpoint("c")], ["c": F.observed(F.state("c"), lease: true)],
                          pending: ["a": "job-a", "c": "job-c"], jobQueuesIdle: true)
        #expect(plan.lostPendingMarkers == [PendingMarker(endpointId: "a", jobId: "job-a")], "a live endpoint's marker is left to its settling job")
        #expect(plan.jobs.map(\.endpointId) == ["a", "b"])
        #expect(plan.report.pending.isEmpty)
    }

    @Test func aPendingMarkerNamingAJobTheQueuePassedOverIsLostWhileOtherJobsWait() {
        var input = ReconcileInput(
            enabled: [F.endpoint("a"), F.endpoint("b"), F.endpoint("c")], observations: [:],
            pending: ["a": "job-a", "b": "job-b", "c": "job-c"], now: F.now)
        // `b`'s marker was replaced by a newer job after its old one vanished: the newer one is trusted.
        input.vanishedJobs = ["a": "job-a", "b": "job-b-old"]
        let plan = ReconcilePlanner(policy: F.policy).plan(input)
        #expect(plan.lostPendingMarkers == [PendingMarker(endpointId: "a", jobId: "job-a")])
        #expect(plan.jobs.map(\.endpointId) == ["a"])
        #expect(plan.report.pending == ["b", "c"])
    }

    @Test func queuedJobMembersRoundTripAndMalformedOnesAreRefused() {
        let job = QueuedJob(endpointId: "endpoint-1", jobId: "job-1", enteredAt: 42)
        #expect(QueuedJob(member: job.member, enteredAt: 42) == job)
        #expect(QueuedJob(member: "no-separator", enteredAt: 1) == nil)
        #expect(QueuedJob(member: " endpoint-1", enteredAt: 1) == nil)
        #expect(QueuedJob(member: "job-1 ", enteredAt: 1) == nil)
        #expect(QueuedJob(member: "job-1 a b", enteredAt: 1) == nil)
    }

    @Test func aLostMarkersEndpointStillKeepsItsCooldownAndPark() {
        let parked = ParkedEndpoint(endpointId: "b", reason: "HTTP 401", kind: .permanent, parkedAt: F.now.addingTimeInterval(-10))
        let plan = F.plan([F.endpoint("a"), F.endpoint("b")], pending: ["a": "job-a", "b": "job-b"], jobQueuesIdle: true,
                          parked: ["b": parked], lastAttempts: ["a": F.now.addingTimeInterval(-5)])
        #expect(plan.lostPendingMarkers.map(\.endpointId) == ["a", "b"])
        #expect(plan.jobs.isEmpty)
        #expect(plan.report.coolingDown == ["a"])
        #expect(plan.report.parked == ["b"])
    }

    @Test func pendingMarkerBlocksEnqueueOfStaleButTheStateIsStillDeleted() {
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a"), lease: false)], pending: ["a": "job-a"])
        #expect(plan.jobs.isEmpty)
        #expect(plan.staleStates.map(\.endpointId) == ["a"])
    }

    @Test func cooldownBlocksEnqueueUntilItElapses() {
        let recent = F.plan([F.endpoint("a")], lastAttempts: ["a": F.now.addingTimeInterval(-59)])
        #expect(recent.jobs.isEmpty)
        #expect(recent.report.coolingDown == ["a"])
        let elapsed = F.plan([F.endpoint("a")], lastAttempts: ["a": F.now.addingTimeInterval(-60)])
        #expect(elapsed.jobs.map(\.endpointId) == ["a"])
    }

    @Test func permanentParkBlocksEnqueueEvenAfterTheParkPeriod() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "HTTP 401", kind: .permanent, parkedAt: F.now.addingTimeInterval(-100_000),
                                    endpointUpdatedAt: Date(timeIntervalSince1970: 1_000_000_000))
        let plan = F.plan([F.endpoint("a")], parked: ["a": parked])
        #expect(plan.jobs.isEmpty)
        #expect(plan.report.parked == ["a"])
        #expect(plan.parkedToClear.isEmpty)
    }

    @Test func transientParkEndsWhenTheParkPeriodPasses() {
        let during = ParkedEndpoint(endpointId: "a", reason: "refused", kind: .transient, parkedAt: F.now.addingTimeInterval(-3599),
                                    endpointUpdatedAt: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(F.plan([F.endpoint("a")], parked: ["a": during]).report.parked == ["a"])
        var after = during
        after.parkedAt = F.now.addingTimeInterval(-3600)
        let plan = F.plan([F.endpoint("a")], parked: ["a": after])
        #expect(plan.jobs.map(\.endpointId) == ["a"])
        #expect(plan.parkedToClear == ["a"])
    }

    @Test func transientParkHonoursAnExplicitUntil() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "refused", kind: .transient, parkedAt: F.now.addingTimeInterval(-10),
                                    until: F.now.addingTimeInterval(-1), endpointUpdatedAt: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(F.plan([F.endpoint("a")], parked: ["a": parked]).jobs.count == 1)
    }

    @Test func rowChangeAfterTheParkEndsIt() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "HTTP 401", kind: .permanent, parkedAt: F.now.addingTimeInterval(-100),
                                    endpointUpdatedAt: Date(timeIntervalSince1970: 1_000_000_000))
        let plan = F.plan([F.endpoint("a", updatedAt: Date(timeIntervalSince1970: 1_000_000_500))], parked: ["a": parked])
        #expect(plan.jobs.map(\.endpointId) == ["a"])
        #expect(plan.parkedToClear == ["a"])
    }

    @Test func parkWithoutRecordedRowTimeEndsOnlyWhenTheRowIsNewerThanThePark() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "HTTP 403", kind: .permanent, parkedAt: F.now.addingTimeInterval(-100))
        #expect(F.plan([F.endpoint("a", updatedAt: F.now.addingTimeInterval(-200))], parked: ["a": parked]).jobs.isEmpty)
        #expect(F.plan([F.endpoint("a", updatedAt: F.now.addingTimeInterval(-50))], parked: ["a": parked]).jobs.count == 1)
    }

    @Test func liveEndpointHasItsParkCleared() {
        let parked = ParkedEndpoint(endpointId: "a", reason: "x", kind: .permanent, parkedAt: F.now)
        let plan = F.plan([F.endpoint("a")], ["a": F.observed(F.state("a"), lease: true)], parked: ["a": parked])
        #expect(plan.parkedToClear == ["a"])
    }

    @Test func parkOfAnEndpointNoLongerEnabledIsCleared() {
        let parked = ParkedEndpoint(endpointId: "gone", reason: "x", kind: .permanent, parkedAt: F.now)
        #expect(F.plan([], parked: ["gone": parked]).parkedToClear == ["gone"])
    }

    @Test func liveSessionOfADisabledEndpointIsStoppedOnItsWorker() {
        let plan = F.plan([], ["d": F.observed(F.state("d", instance: "worker-9"), lease: true)])
        #expect(plan.stops == [PlannedStop(endpointId: "d", instanceId: "worker-9")])
        #expect(plan.report.orphaned == ["d"])
        #expect(plan.jobs.isEmpty)
    }

    @Test func orphanHeldByTheOriginalIsReportedButNotStopped() {
        let plan = F.plan([], ["d": F.observed(F.state("d", pool: false), lease: false)])
        #expect(plan.stops.isEmpty)
        #expect(plan.unmanagedOrphans == ["d"])
        #expect(plan.report.orphaned == ["d"])
    }

    @Test func staleStateOfADisabledEndpointIsDeletedNotStopped() {
        let plan = F.plan([], ["d": F.observed(F.state("d"), lease: false)])
        #expect(plan.stops.isEmpty)
        #expect(plan.staleStates.map(\.endpointId) == ["d"])
        #expect(plan.report.stale == ["d"])
        #expect(plan.jobs.isEmpty)
    }

    @Test func indexEntryWithoutStateIsRemoved() {
        let plan = F.plan([F.endpoint("a")], [
            "a": LiveObservation(state: .absent, leaseHeld: false, indexed: true),
            "z": LiveObservation(state: .absent, leaseHeld: false, indexed: true),
        ])
        #expect(plan.indexEntriesToRemove == ["a", "z"])
        #expect(plan.jobs.map(\.endpointId) == ["a"])
    }

    @Test func duplicateEnabledRowsArePlannedOnce() {
        let plan = F.plan([F.endpoint("a"), F.endpoint("a")])
        #expect(plan.jobs.count == 1)
        #expect(plan.report.enabled == ["a"])
    }

    @Test func plannedJobBecomesAFirstAttemptJob() {
        let job = PlannedJob(endpointId: "a", endpointName: "n", reason: .stale, staleReason: .leaseLost).job(jobId: "j", at: F.now)
        #expect(job == RecoveryJob(jobId: "j", endpointId: "a", reason: .stale, attempt: 1, enqueuedAt: F.now))
    }

    @Test func plannedStopBecomesAStopMessage() {
        let message = PlannedStop(endpointId: "a", instanceId: "w").message(at: F.now)
        #expect(message == ControlMessage(command: .stop, endpointId: "a", instanceId: "w", reason: .orphaned, issuedAt: F.now))
    }

    @Test func everyEnabledIdLandsInExactlyOneCategory() {
        var enabled: [EnabledEndpoint] = []
        var observations: [EndpointID: LiveObservation] = [:]
        for index in 0..<400 {
            let id = EndpointID("e\(index)")
            enabled.append(F.endpoint(id))
            switch index % 5 {
            case 0: observations[id] = F.observed(F.state(id), lease: true)
            case 1: observations[id] = F.observed(F.state(id), lease: false)
            case 2: observations[id] = LiveObservation(state: .absent, leaseHeld: true, indexed: false)
            case 3: observations[id] = F.observed(F.state(id, heartbeatAgo: 500, pool: false), lease: false)
            default: break
            }
        }
        let pending = Dictionary(uniqueKeysWithValues: (0..<400).filter { $0 % 7 == 0 }.map { (EndpointID("e\($0)"), "job-\($0)") })
        let plan = F.plan(enabled, observations, pending: pending)
        let report = plan.report
        let categories = [report.live, report.connecting, report.missing, report.stale]
        #expect(categories.map(\.count).reduce(0, +) == 400)
        #expect(Set(categories.joined()).count == 400)
        let needing = Set(report.missing + report.stale)
        let blocked = report.pending + report.parked + report.coolingDown
        #expect(Set(blocked + report.enqueued) == needing)
        #expect(blocked.count + report.enqueued.count == needing.count)
        #expect(report.counts["live"] == 80)
        #expect(plan.jobs.map(\.endpointId) == report.enqueued)
    }

    @Test func reportEncodesCountsAndIds() throws {
        let plan = F.plan([F.endpoint("a"), F.endpoint("b")], ["b": F.observed(F.state("b"), lease: true)])
        let object = try #require(JSONSerialization.jsonObject(with: plan.report.jsonData()) as? [String: Any])
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts["enabled"] == 2)
        #expect(counts["missing"] == 1)
        #expect(counts["live"] == 1)
        #expect(object["missing"] as? [String] == ["a"])
        #expect(object["generatedAt"] as? String == Timestamp.format(F.now))
        let value = try JSONValue(parsing: Array(plan.report.jsonData()))
        let lists: [(String, [EndpointID])] = [
            ("enabled", plan.report.enabled), ("live", plan.report.live), ("connecting", plan.report.connecting),
            ("missing", plan.report.missing), ("stale", plan.report.stale), ("orphaned", plan.report.orphaned),
            ("parked", plan.report.parked), ("pending", plan.report.pending), ("coolingDown", plan.report.coolingDown),
            ("enqueued", plan.report.enqueued),
        ]
        for (name, ids) in lists {
            #expect(value[name]?.arrayValue?.compactMap(\.stringValue) == ids.map(\.rawValue), "\(name)")
        }
        #expect(plan.report.summary.hasPrefix("enabled=2 live=1 connecting=0 missing=1"))
    }
}

@Suite struct ReconcileInputDecodingTests {
    @Test func parkedHashDecodesAndSetsMalformedEntriesApart() {
        let good = ParkedEndpoint(endpointId: "a", reason: "HTTP 401", kind: .permanent, parkedAt: Fixture.now)
        let (parked, malformed) = ReconcileInput.decodeParked([
            "a": good.encoded(),
            "b": "{not json",
            "c": good.encoded(),
        ])
        #expect(parked == ["a": good])
        #expect(malformed == ["b", "c"])
    }

    @Test func lastAttemptHashDropsUnreadableTimes() {
        let attempts = ReconcileInput.decodeLastAttempts(["a": "2026-11-27T00:00:00.000Z", "b": "soon"])
        #expect(attempts.keys.sorted() == ["a"])
        #expect(attempts["a"].map(Timestamp.format) == "2026-11-27T00:00:00.000Z")
    }
}
