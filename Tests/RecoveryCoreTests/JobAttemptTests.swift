import Foundation
import Testing
@testable import RecoveryCore

/// The worker's rules for one delivered job (SPEC §7), on the pure machine: each path named, then every
/// path the answers allow walked for the invariants that keep one session per endpoint and lose no job.
@Suite struct JobAttemptTests {
    static let policy = RetryPolicy(delays: [5, 15], maxAttempts: 3)
    static let updatedAt = Date(timeIntervalSince1970: 1_700_000_000)

    static func attempt(_ number: Int = 1) -> JobAttempt {
        let job = RecoveryJob(jobId: "j\(number)", endpointId: "42", reason: .missing, attempt: number, enqueuedAt: Date(timeIntervalSince1970: 0))
        return JobAttempt(job: job, retryPolicy: policy, connectTimeout: .seconds(10), pendingTtl: .seconds(60))
    }

    /// Feeds `events` in order after the delivery and returns every step taken.
    static func steps(_ events: [JobAttempt.Event], attempt number: Int = 1, stopping: Bool = false) -> [JobAttempt.Step] {
        var machine = attempt(number)
        var steps = [machine.handle(.delivered(stopping: stopping))]
        for event in events { steps.append(machine.handle(event)) }
        return steps
    }

    static let untilOpen: [JobAttempt.Event] = [.reserved(.reserved), .redisChecked(answers: true), .leaseAndRow(.acquired(fence: 7), .enabled(updatedAt: updatedAt))]

    @Test func aStoppingWorkerGivesTheJobBackWithoutReservingASlot() {
        let steps = Self.steps([], stopping: true)
        #expect(steps.last == JobAttempt.Step([], .giveBack(why: "the worker is stopping")))
    }

    @Test func aFullWorkerGivesTheJobBack() {
        let step = Self.steps([.reserved(.refused)]).last
        #expect(step?.request == .giveBack(why: "no free capacity, or a job for the endpoint is running here"))
        #expect(step?.effects == [])
    }

    @Test func aJobForASessionHeldHereIsSettledAsSkippedAndClearsItsMarker() {
        let step = Self.steps([.reserved(.heldHere)]).last
        #expect(step?.request == .settle(.init(outcome: .skipped, error: nil, disposition: .init(endpointUpdatedAt: nil), markConnected: false)))
        #expect(step?.effects == [], "nothing was reserved, so nothing is given back")
    }

    @Test func aWorkerSheddingJobsGivesBackAJobThatHasNotTakenItsLease() {
        let step = Self.steps([.reserved(.reserved), .sheddingJobs]).last
        #expect(step == JobAttempt.Step([.cancelReservation], .giveBack(why: "this worker's lease renewals are late: it takes no jobs until they are on time")))
    }

    @Test func aWorkerCutOffFromRedisGivesTheJobBackAndItsSlot() {
        let step = Self.steps([.reserved(.reserved), .redisChecked(answers: false)]).last
        #expect(step == JobAttempt.Step([.cancelReservation], .giveBack(why: "Redis does not answer this worker")))
    }

    @Test func aLeaseHeldElsewhereIsNeitherConnectedOverNorReleased() {
        let step = Self.steps([.reserved(.reserved), .redisChecked(answers: true), .leaseAndRow(.refused(foreignSessionLive: true), .enabled(updatedAt: nil))]).last
        #expect(step?.effects == [.log(.handledElsewhere(foreignSessionLive: true)), .cancelReservation])
        #expect(step?.request == .settle(.init(outcome: .skipped, error: nil, disposition: .init(endpointUpdatedAt: nil), markConnected: false)))
    }

    @Test func aDisabledEndpointReleasesTheLeaseAndStops() {
        let step = Self.steps([.reserved(.reserved), .redisChecked(answers: true), .leaseAndRow(.acquired(fence: 3), .disabledOrDeleted)]).last
        #expect(step?.effects == [.log(.acquired(fence: 3)), .releaseLease, .log(.endpointDisabled), .cancelReservation])
        #expect(step?.request == .settle(.init(outcome: .stopped, error: nil, disposition: .init(endpointUpdatedAt: nil), markConnected: false)))
    }

    @Test func aRecoveredSessionKeepsItsLeaseAndSlotAndMarksTheTable() {
        let steps = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: true), .stateCommitted(true), .handedOver(closedEarly: nil)])
        #expect(steps.map(\.request).suffix(4) == [.openSession, .commitState, .handOver, .settle(.init(outcome: .recovered, error: nil, disposition: nil, markConnected: true))])
        #expect(!steps.flatMap(\.effects).contains(.releaseLease))
        #expect(!steps.flatMap(\.effects).contains(.cancelReservation))
    }

    @Test func aSessionThatOpensAfterItsLeaseWentUnconfirmedIsClosedAndRetried() {
        let step = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: false)]).last
        let error = FailureCause.other("lease renewal not confirmed while connecting").jobError
        #expect(step?.effects == [.closeSession(reason: "lease not confirmed"), .releaseLease, .log(.attemptFailed(error))])
        #expect(step?.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
    }

    @Test func aStateWriteRefusedMeansAnotherHolderTookTheLease() {
        let step = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: true), .stateCommitted(false)]).last
        #expect(step?.effects == [.closeSession(reason: "lease lost"), .log(.handledElsewhere(foreignSessionLive: false)), .cancelReservation])
        #expect(step?.request == .settle(.init(outcome: .skipped, error: nil, disposition: nil, markConnected: false)))
    }

    @Test func aStateWriteThatFailsClosesTheSessionReleasesAndRetries() {
        let step = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: true), .stateWriteFailed("timeout")]).last
        #expect(step?.effects.prefix(2) == [.closeSession(reason: "state unavailable"), .releaseLease])
        #expect(step?.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
    }

    @Test func anAbandonedUpgradeHoldsTheLeaseOneConnectTimeoutBeforeTheRetry() {
        let cause = FailureCause.timeout(phase: "upgrade")
        let held = Self.steps(Self.untilOpen + [.openFailed(cause)]).last
        #expect(held == JobAttempt.Step([], .holdLease(.seconds(10))))
        let elapsed = Self.steps(Self.untilOpen + [.openFailed(cause), .hold(.elapsed)]).last
        #expect(elapsed?.effects.first == .releaseLease)
        #expect(elapsed?.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
        let stopping = Self.steps(Self.untilOpen + [.openFailed(cause), .hold(.interrupted)]).last
        #expect(stopping?.effects.contains(.releaseLease) == false, "the lease lapses at the hold's end by itself")
        #expect(stopping?.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
    }

    @Test func aFailureBeforeTheRequestWentOutRetriesAtOnce() {
        let step = Self.steps(Self.untilOpen + [.openFailed(.timeout(phase: "connect"))]).last
        #expect(step?.effects.first == .releaseLease)
        #expect(step?.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
    }

    @Test func aPermanentFailureIsDeadLetteredAndParksTheEndpointWithTheRowsTime() {
        let cause = FailureCause.handshakeRejected(status: 401)
        let steps = Self.steps(Self.untilOpen + [.openFailed(cause), .published(true)])
        #expect(steps[steps.count - 2].request == .publishDeadLetter(.permanent, cause.jobError))
        #expect(steps.last?.effects == [.log(.deadLettered(.permanent, cause.jobError)), .cancelReservation])
        #expect(steps.last?.request == .settle(.init(outcome: .dead, error: cause.jobError, disposition: .init(endpointUpdatedAt: Self.updatedAt), markConnected: false)))
    }

    @Test func theLastAttemptIsDeadLetteredAsExhausted() {
        let step = Self.steps(Self.untilOpen + [.openFailed(.connectionRefused)], attempt: 3).last
        #expect(step?.request == .publishDeadLetter(.exhausted, FailureCause.connectionRefused.jobError))
    }

    @Test func aRetryTheBrokerRefusedPutsTheMarkerBackAndRequeuesTheDelivery() {
        let step = Self.steps(Self.untilOpen + [.openFailed(.connectionRefused), .published(false)]).last
        #expect(step == JobAttempt.Step([.restorePendingMarker, .cancelReservation], .requeue))
    }

    @Test func aSessionClosedBeforeTheKeeperHeldItIsEndedAsLostWithThePeersCause() {
        let cause = FailureCause.closed(code: 1008, reason: "policy")
        let step = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: true), .stateCommitted(true), .handedOver(closedEarly: cause)]).last
        #expect(step == JobAttempt.Step([.endLostSession(cause)], .settle(.init(outcome: .recovered, error: nil, disposition: nil, markConnected: false))))
    }

    @Test func aStopThatArrivedWhileTheSessionOpenedEndsItOnceHeldAndSettlesAsStopped() {
        let step = Self.steps(Self.untilOpen + [.sessionOpened(leaseConfirmed: true), .stateCommitted(true), .stoppedWhileOpening]).last
        #expect(step == JobAttempt.Step([.endStoppedSession, .log(.endpointDisabled)], .settle(.init(outcome: .stopped, error: nil, disposition: nil, markConnected: false))))
    }

    @Test func aLostSessionsFailedAttemptPublishesNoResult() {
        let job = RecoveryJob(jobId: "lost", endpointId: "42", reason: .released, attempt: 1, enqueuedAt: Date(timeIntervalSince1970: 0))
        let retry = RetryDecision.retry(nextAttempt: 2, step: 0, delaySeconds: 5)
        var (machine, first) = JobAttempt.failed(job, cause: .connectionReset, decision: retry, retryPolicy: Self.policy, pendingTtl: .seconds(60), endpointUpdatedAt: nil)
        #expect(first.request == .publishRetry(step: 0, pendingTtl: .seconds(65)))
        #expect(!first.effects.contains(.releaseLease), "the session's own ending released it")
        #expect(machine.handle(.published(true)) == JobAttempt.Step(nil))
        #expect(machine.isDone)

        var (refused, _) = JobAttempt.failed(job, cause: .connectionReset, decision: retry, retryPolicy: Self.policy, pendingTtl: .seconds(60), endpointUpdatedAt: nil)
        #expect(refused.handle(.published(false)) == JobAttempt.Step([.restorePendingMarker, .clearPendingMarker], nil))

        let closed = FailureCause.closed(code: 1008, reason: "")
        var (dead, deadStep) = JobAttempt.failed(job, cause: closed, decision: .deadLetter(.permanent), retryPolicy: Self.policy, pendingTtl: .seconds(60), endpointUpdatedAt: Self.updatedAt)
        #expect(deadStep.request == .publishDeadLetter(.permanent, closed.jobError))
        let parked = dead.handle(.published(true))
        #expect(parked.request == .recordDisposition(.init(outcome: .dead, error: closed.jobError, disposition: .init(endpointUpdatedAt: Self.updatedAt), markConnected: false)))
    }

    // MARK: Every path

    /// The answers each request can get.
    static func answers(to request: JobAttempt.Request) -> [JobAttempt.Event] {
        switch request {
        case .reserve: return [.reserved(.reserved), .reserved(.heldHere), .reserved(.refused)]
        case .checkRedis: return [.redisChecked(answers: true), .redisChecked(answers: false), .sheddingJobs]
        case .acquireLeaseAndReadRow:
            let leases: [JobAttempt.LeaseAnswer] = [.acquired(fence: 1), .refused(foreignSessionLive: true), .refused(foreignSessionLive: false), .failed("down")]
            let rows: [JobAttempt.RowAnswer] = [.enabled(updatedAt: updatedAt), .disabledOrDeleted, .failed("down")]
            return leases.flatMap { lease in rows.map { .leaseAndRow(lease, $0) } }
        case .openSession:
            return [.sessionOpened(leaseConfirmed: true), .sessionOpened(leaseConfirmed: false), .openFailed(.timeout(phase: "upgrade")),
                    .openFailed(.connectionRefused), .openFailed(.handshakeRejected(status: 401))]
        case .commitState: return [.stateCommitted(true), .stateCommitted(false), .stateWriteFailed("down")]
        case .handOver: return [.handedOver(closedEarly: nil), .handedOver(closedEarly: .closed(code: 1008, reason: "")), .stoppedWhileOpening]
        case .holdLease: return [.hold(.notKept), .hold(.elapsed), .hold(.interrupted)]
        case .publishRetry, .publishDeadLetter: return [.published(true), .published(false)]
        case .settle, .recordDisposition, .giveBack, .requeue: return [.finished]
        }
    }

    /// Every sequence of steps the answers allow, from the delivery to the end.
    static func allPaths(attempt number: Int) -> [[(JobAttempt.Step, JobAttempt.Event?)]] {
        var paths: [[(JobAttempt.Step, JobAttempt.Event?)]] = []
        func walk(_ machine: JobAttempt, _ step: JobAttempt.Step, _ path: [(JobAttempt.Step, JobAttempt.Event?)]) {
            guard let request = step.request else {
                paths.append(path + [(step, nil)])
                return
            }
            for answer in answers(to: request) {
                var next = machine
                let following = next.handle(answer)
                walk(next, following, path + [(step, answer)])
            }
        }
        for stopping in [false, true] {
            var machine = attempt(number)
            let first = machine.handle(.delivered(stopping: stopping))
            walk(machine, first, [])
        }
        return paths
    }

    @Test(arguments: [1, 3]) func everyPathEndsOnceKeepsTheLeaseRulesAndLosesNoJob(attempt number: Int) {
        let paths = Self.allPaths(attempt: number)
        #expect(paths.count >= 30)
        for path in paths {
            let requests = path.compactMap { $0.0.request }
            let effects = path.flatMap { $0.0.effects }
            let events = path.compactMap(\.1)
            let shown = "\(events)"
            // The delivery ends exactly once: a result then an ack, a give-back, or a requeue.
            let endings = requests.filter {
                switch $0 {
                case .settle, .giveBack, .requeue: return true
                default: return false
                }
            }
            #expect(endings.count == 1 && requests.last == endings.first, "\(shown)")

            let acquired = events.contains { if case .leaseAndRow(.acquired, _) = $0 { return true } else { return false } }
            let releases = effects.filter { $0 == .releaseLease }.count
            // A session opens only under this attempt's lease; the lease is released at most once, and only
            // when this attempt took it.
            if requests.contains(.openSession) { #expect(acquired, "\(shown)") }
            #expect(releases <= (acquired ? 1 : 0), "\(shown)")
            // Once handed over, the lease and the slot are the keeper's session's: its ending releases them.
            let kept = requests.contains(.handOver)
            let handedToAnother = events.contains(.stateCommitted(false)) || events.contains(.hold(.interrupted))
            // An acquired lease that does not become a held session is given up: released, or (another holder
            // took it, or the worker stops in a hold) left alone.
            if acquired, !kept, !handedToAnother { #expect(releases == 1, "\(shown)") }
            if kept { #expect(releases == 0, "\(shown)") }
            // A reserved slot goes back unless it became the session.
            let reserved = events.contains(.reserved(.reserved))
            let cancels = effects.filter { $0 == .cancelReservation }.count
            #expect(cancels == (reserved && !kept ? 1 : 0), "\(shown)")
            // A stop that arrived while the session opened ends it once it is held.
            #expect(events.contains(.stoppedWhileOpening) == effects.contains(.endStoppedSession), "\(shown)")
            // An opened session that is not handed over is closed.
            let opened = events.contains { if case .sessionOpened = $0 { return true } else { return false } }
            let closes = effects.filter { if case .closeSession = $0 { return true } else { return false } }.count
            if opened, !requests.contains(.handOver) { #expect(closes == 1, "\(shown)") }
            // A retry or dead letter goes out only after a failure, and a failure always sends one.
            let failed = effects.contains { if case .log(.attemptFailed) = $0 { return true } else { return false } }
            let published = requests.contains { switch $0 { case .publishRetry, .publishDeadLetter: return true; default: return false } }
            #expect(failed == published, "\(shown)")
        }
    }
}
