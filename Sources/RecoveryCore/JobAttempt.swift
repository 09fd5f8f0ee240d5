import Foundation

/// How one delivered recovery job ends (SPEC §7): the worker's rules for taking, opening, committing and
/// settling, as a machine that takes what happened and says what to do next. The worker's shell executes
/// each step (`effects` in order, then the `request`) and feeds the request's answer back as the next
/// event, until the request is nil.
///
/// Every path ends in exactly one of: a published result then an ack, the job given back to the queue as a
/// new message, or a nack with requeue when nothing could be published (nothing is lost).
public struct JobAttempt: Sendable {
    public let job: RecoveryJob
    let retryPolicy: RetryPolicy
    let connectTimeout: Duration
    let pendingTtl: Duration
    private var state: State
    /// Whether a capacity slot is reserved for this job: every end but `recovered` gives it back.
    private var reserved = false
    /// Whether this attempt holds the endpoint's lease now.
    private var holdsLease = false
    /// The row's `"UpdatedAt"`, recorded in a park so that an edit of the row ends it.
    private var endpointUpdatedAt: Date?
    private var mode = Mode.delivery

    /// Whether the attempt came as a delivery (settled by a result and an ack) or is the failed attempt
    /// of a session lost soon after opening (nothing to ack: its marker and park are all there is).
    private enum Mode: Sendable, Equatable {
        case delivery
        case lostSession
    }

    private enum State: Sendable, Equatable {
        case admitting
        case reserving
        case checkingRedis
        case acquiring
        case opening
        case committing
        case handingOver
        case holding(FailureCause)
        case retrying(JobError)
        case deadLettering(DeadLetterReason, JobError)
        case settling
        case done
    }

    /// What the worker learned. Each answers the step's request.
    public enum Event: Sendable, Equatable {
        /// The delivery arrived (answers nothing): whether the worker is stopping.
        case delivered(stopping: Bool)
        /// Answers `.reserve`.
        case reserved(Reservation)
        /// Answers `.checkRedis`: whether Redis answered within the job start timeout.
        case redisChecked(answers: Bool)
        /// Answers `.checkRedis`: Redis answered, but the worker's lease renewals come late
        /// (`RenewalPressure`), so it takes no job that has not yet taken its lease.
        case sheddingJobs
        /// Answers `.acquireLeaseAndReadRow`.
        case leaseAndRow(LeaseAnswer, RowAnswer)
        /// Answers `.openSession`: it opened; whether the lease was still confirmed when it did.
        case sessionOpened(leaseConfirmed: Bool)
        /// Answers `.openSession`: it did not open (a failure, a timeout, or an interruption by the lease).
        case openFailed(FailureCause)
        /// Answers `.commitState`: whether the state was written under this attempt's lease.
        case stateCommitted(Bool)
        /// Answers `.commitState`: Redis did not answer.
        case stateWriteFailed(String)
        /// Answers `.handOver`: the keeper holds the session; the close cause when it closed before that.
        case handedOver(closedEarly: FailureCause?)
        /// Answers `.handOver`: a stop for the endpoint arrived while its session opened; the keeper holds
        /// it only to end it.
        case stoppedWhileOpening
        /// Answers `.holdLease`.
        case hold(HoldOutcome)
        /// Answers `.publishRetry` and `.publishDeadLetter`: whether the broker confirmed it.
        case published(Bool)
        /// Answers `.settle`, `.recordDisposition`, `.giveBack` and `.requeue`.
        case finished
    }

    public enum Reservation: Sendable, Equatable {
        /// A slot is reserved for the job.
        case reserved
        /// The endpoint's session is held here already: the job is settled by it.
        case heldHere
        /// No free slot, or a job for the endpoint runs here.
        case refused
    }

    public enum LeaseAnswer: Sendable, Equatable {
        case acquired(fence: Int)
        /// Another holder has it; `foreignSessionLive` when it is another platform's live session.
        case refused(foreignSessionLive: Bool)
        case failed(String)
    }

    public enum RowAnswer: Sendable, Equatable {
        case enabled(updatedAt: Date?)
        case disabledOrDeleted
        case failed(String)
    }

    public enum HoldOutcome: Sendable, Equatable {
        /// The lease could not be set to the hold's length: it is released and the attempt fails at once.
        case notKept
        /// The hold ran to its end.
        case elapsed
        /// The worker is stopping: the lease is left to lapse at the hold's end.
        case interrupted
    }

    /// Asks the shell for something and waits for its answer (the next event).
    public enum Request: Sendable, Equatable {
        /// Reserve a capacity slot for the endpoint.
        case reserve
        /// PING Redis within the job start timeout.
        case checkRedis
        /// Take the endpoint's lease, reading its row meanwhile.
        case acquireLeaseAndReadRow
        /// Open the session under the lease (renewed while it opens, within the connect timeout).
        case openSession
        /// Write the connected state, clear the pending marker and park, only under this attempt's lease.
        case commitState
        /// Give the open session to the keeper.
        case handOver
        /// Set the lease to lapse after `duration` and wait it out: an abandoned upgrade may still be answered.
        case holdLease(Duration)
        /// Set the pending marker to the retry (`pendingTtl`), then publish it to delay step `step`.
        case publishRetry(step: Int, pendingTtl: Duration)
        /// Publish the job to the dead-letter queue.
        case publishDeadLetter(DeadLetterReason, JobError)
        /// Apply `disposition` to the marker and park (when not nil), publish the result, ack.
        case settle(Settlement)
        /// Publish the job again as a new message and ack the delivery (a nack would count towards the
        /// queue's delivery limit).
        case giveBack(why: String)
        /// Nack with requeue: nothing could be published.
        case requeue
        /// Apply the settlement's disposition to the marker and park only (no delivery to settle).
        case recordDisposition(Settlement)
    }

    /// Done without waiting for an answer, in order, before the request.
    public enum Effect: Sendable, Equatable {
        case cancelReservation
        case releaseLease
        case closeSession(reason: String)
        /// The session closed before the keeper held it: end it as lost, with the peer's cause.
        case endLostSession(FailureCause)
        /// A stop arrived while the session opened: end it as stopped (closed, released, row marked).
        case endStoppedSession
        /// The retry could not be published: the marker names this job again, as it goes back to the queue.
        case restorePendingMarker
        /// Delete the endpoint's pending marker: no job for it is queued.
        case clearPendingMarker
        case log(Note)
    }

    /// What the log says (the shell words it, in the original's texts where it has them).
    public enum Note: Sendable, Equatable {
        /// Another holder has the lease, or took it while this attempt opened.
        case handledElsewhere(foreignSessionLive: Bool)
        case acquired(fence: Int)
        case recovering
        case endpointDisabled
        case attemptFailed(JobError)
        case deadLettered(DeadLetterReason, JobError)
        case recovered
    }

    public struct Settlement: Sendable, Equatable {
        public var outcome: JobOutcome
        public var error: JobError?
        /// What the result means for the marker and park; nil when the state write settled them already.
        public var disposition: Disposition?
        /// The session came up: `"IsConnected"` is marked in the table while the result is published.
        public var markConnected: Bool
    }

    /// The marker and park rule for the result (see `ResultDisposition.of`), with the row's time.
    public struct Disposition: Sendable, Equatable {
        public var endpointUpdatedAt: Date?
    }

    public struct Step: Sendable, Equatable {
        public var effects: [Effect]
        public var request: Request?

        init(_ effects: [Effect], _ request: Request?) {
            self.effects = effects
            self.request = request
        }

        init(_ request: Request?) {
            self.init([], request)
        }
    }

    public init(job: RecoveryJob, retryPolicy: RetryPolicy, connectTimeout: Duration, pendingTtl: Duration) {
        self.job = job
        self.retryPolicy = retryPolicy
        self.connectTimeout = connectTimeout
        self.pendingTtl = pendingTtl
        self.state = .admitting
    }

    /// The failure path alone, for an attempt that failed after its job was settled: a session that
    /// died soon after opening (`SessionLossRule`) is a failed attempt of the job that opened it.
    public static func failed(
        _ job: RecoveryJob, cause: FailureCause, decision: RetryDecision, retryPolicy: RetryPolicy, pendingTtl: Duration,
        endpointUpdatedAt: Date?
    ) -> (JobAttempt, Step) {
        var attempt = JobAttempt(job: job, retryPolicy: retryPolicy, connectTimeout: .zero, pendingTtl: pendingTtl)
        attempt.endpointUpdatedAt = endpointUpdatedAt
        attempt.mode = .lostSession
        let step = attempt.fail(cause, decision: decision)
        return (attempt, step)
    }

    public var isDone: Bool { state == .done }

    /// The next step after `event`. An event the current state does not expect is a defect of the shell.
    public mutating func handle(_ event: Event) -> Step {
        switch (state, event) {
        case (.admitting, .delivered(let stopping)):
            if stopping { return finish(giveBack: "the worker is stopping") }
            state = .reserving
            return Step(.reserve)

        case (.reserving, .reserved(.reserved)):
            reserved = true
            state = .checkingRedis
            return Step(.checkRedis)
        case (.reserving, .reserved(.heldHere)):
            return settle(.skipped, error: nil, disposition: Disposition(endpointUpdatedAt: nil))
        case (.reserving, .reserved(.refused)):
            return finish(giveBack: "no free capacity, or a job for the endpoint is running here")

        case (.checkingRedis, .redisChecked(true)):
            state = .acquiring
            return Step(.acquireLeaseAndReadRow)
        case (.checkingRedis, .redisChecked(false)):
            return finish(giveBack: "Redis does not answer this worker")
        case (.checkingRedis, .sheddingJobs):
            return finish(giveBack: "this worker's lease renewals are late: it takes no jobs until they are on time")

        case (.acquiring, .leaseAndRow(.refused(let foreign), _)):
            return settle(.skipped, error: nil, disposition: Disposition(endpointUpdatedAt: nil), notes: [.log(.handledElsewhere(foreignSessionLive: foreign))])
        case (.acquiring, .leaseAndRow(.failed(let error), _)):
            return fail(.other("lease unavailable: \(error)"))
        case (.acquiring, .leaseAndRow(.acquired(let fence), let row)):
            holdsLease = true
            switch row {
            case .enabled(let updatedAt):
                endpointUpdatedAt = updatedAt
                state = .opening
                return Step([.log(.acquired(fence: fence)), .log(.recovering)], .openSession)
            case .disabledOrDeleted:
                holdsLease = false
                return settle(.stopped, error: nil, disposition: Disposition(endpointUpdatedAt: nil), notes: [.log(.acquired(fence: fence)), .releaseLease, .log(.endpointDisabled)])
            case .failed(let error):
                return fail(.other("endpoint row unavailable: \(error)"), before: [.log(.acquired(fence: fence))])
            }

        case (.opening, .sessionOpened(leaseConfirmed: true)):
            state = .committing
            return Step(.commitState)
        case (.opening, .sessionOpened(leaseConfirmed: false)):
            return fail(.other("lease renewal not confirmed while connecting"), before: [.closeSession(reason: "lease not confirmed")])
        case (.opening, .openFailed(let cause)):
            guard let hold = AbandonedHandshakeHold.duration(after: cause, connectTimeout: connectTimeout) else { return fail(cause) }
            state = .holding(cause)
            return Step(.holdLease(hold))

        case (.holding(let cause), .hold(.notKept)), (.holding(let cause), .hold(.elapsed)):
            return fail(cause)
        case (.holding(let cause), .hold(.interrupted)):
            holdsLease = false
            return fail(cause)

        case (.committing, .stateCommitted(true)):
            state = .handingOver
            return Step(.handOver)
        case (.committing, .stateCommitted(false)):
            holdsLease = false
            return settle(.skipped, error: nil, disposition: nil, notes: [.closeSession(reason: "lease lost"), .log(.handledElsewhere(foreignSessionLive: false))])
        case (.committing, .stateWriteFailed(let error)):
            return fail(.other("state write failed: \(error)"), before: [.closeSession(reason: "state unavailable")])

        case (.handingOver, .handedOver(let closedEarly)):
            // The reservation became the keeper's session: it is not given back.
            reserved = false
            holdsLease = false
            if let cause = closedEarly {
                return settle(.recovered, error: nil, disposition: nil, notes: [.endLostSession(cause)])
            }
            return settle(.recovered, error: nil, disposition: nil, notes: [.log(.recovered)], markConnected: true)
        case (.handingOver, .stoppedWhileOpening):
            // A stop the connect outran is not lost: the session ends as soon as it is held.
            reserved = false
            holdsLease = false
            return settle(.stopped, error: nil, disposition: nil, notes: [.endStoppedSession, .log(.endpointDisabled)])

        case (.retrying(let error), .published(true)):
            guard mode == .delivery else {
                // The retry's marker was set as it went out; there is no result to publish.
                state = .done
                return Step(nil)
            }
            return settle(.retrying, error: error, disposition: Disposition(endpointUpdatedAt: endpointUpdatedAt))
        case (.retrying, .published(false)):
            return requeue([.restorePendingMarker])
        case (.deadLettering(let reason, let error), .published(true)):
            return settle(.dead, error: error, disposition: Disposition(endpointUpdatedAt: endpointUpdatedAt), notes: [.log(.deadLettered(reason, error))])
        case (.deadLettering, .published(false)):
            return requeue([])

        case (.settling, .finished):
            state = .done
            return Step(nil)

        default:
            preconditionFailure("job attempt of \(job.endpointId): \(event) is not expected in \(state)")
        }
    }

    // MARK: Paths

    /// A failed attempt: the lease released (when held), then a delayed retry or a dead letter with the
    /// endpoint parked, as `decision` says (by default the retry policy's).
    private mutating func fail(_ cause: FailureCause, decision: RetryDecision? = nil, before: [Effect] = []) -> Step {
        let error = cause.jobError
        var effects = before
        if holdsLease { effects.append(.releaseLease) }
        holdsLease = false
        effects.append(.log(.attemptFailed(error)))
        switch decision ?? retryPolicy.decide(failedAttempt: job.attempt, kind: error.kind) {
        case .retry(_, let step, let delay):
            state = .retrying(error)
            return Step(effects, .publishRetry(step: step, pendingTtl: .seconds(delay) + pendingTtl))
        case .deadLetter(let reason):
            state = .deadLettering(reason, error)
            return Step(effects, .publishDeadLetter(reason, error))
        }
    }

    private mutating func settle(
        _ outcome: JobOutcome, error: JobError?, disposition: Disposition?, notes: [Effect] = [], markConnected: Bool = false
    ) -> Step {
        var effects = notes
        if reserved { effects.append(.cancelReservation) }
        reserved = false
        state = .settling
        let settlement = Settlement(outcome: outcome, error: error, disposition: disposition, markConnected: markConnected)
        return Step(effects, mode == .delivery ? .settle(settlement) : .recordDisposition(settlement))
    }

    private mutating func finish(giveBack why: String) -> Step {
        var effects: [Effect] = []
        if reserved { effects.append(.cancelReservation) }
        reserved = false
        state = .settling
        return Step(effects, .giveBack(why: why))
    }

    private mutating func requeue(_ notes: [Effect]) -> Step {
        var effects = notes
        if reserved { effects.append(.cancelReservation) }
        reserved = false
        guard mode == .delivery else {
            // Nothing goes back to a queue: the marker goes, and the scheduler finds the endpoint missing.
            state = .done
            return Step(effects + [.clearPendingMarker], nil)
        }
        state = .settling
        return Step(effects, .requeue)
    }
}
