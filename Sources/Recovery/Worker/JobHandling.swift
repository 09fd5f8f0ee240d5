import AMQPClient
import ClientSupport
import Foundation
import Logging
import MCP
import RecoveryCore
import Transport

extension WorkerRuntime {
    /// Settles one delivery: its `JobAttempt` decides, this executes each step and feeds the answer back.
    /// Every delivery ends in a published result then an ack, a give-back, or a nack with requeue.
    func handle(_ delivery: AMQPDelivery) async {
        let started = ContinuousClock.now
        let job: RecoveryJob
        do {
            job = try RecoveryJob.decode(Data(delivery.body))
        } catch {
            await deadLetterMalformed(delivery, error: error)
            return
        }
        let connections = jobConnections()
        var attempt = JobAttempt(
            job: job, retryPolicy: retryPolicy, connectTimeout: .seconds(configuration.connectTimeoutSeconds),
            pendingTtl: .seconds(configuration.pendingTtlSeconds))
        var context = AttemptContext(delivery: delivery, store: connections.store, directory: connections.directory, started: started)
        // Beside the attempt: the scheduler takes a job no worker records as received for lost.
        async let receipt: Void = recordReceipt(of: job, in: connections.store)
        let first = attempt.handle(.delivered(stopping: Task.isCancelled || shuttingDown.load(ordering: .relaxed)))
        await run(&attempt, from: first, context: &context)
        await receipt
    }

    /// Best effort: a receipt Redis does not take only makes the job look lost, and one more job follows.
    /// Skipped while Redis is known not to answer, so a given-back job does not wait out a command timeout.
    private func recordReceipt(of job: RecoveryJob, in store: PoolStores) async {
        guard redisReachable.load(ordering: .relaxed) else { return }
        try? await store.arrivals.received(job)
    }

    /// What one attempt's steps share: the I/O handles, and what the answers brought (the row, the session).
    struct AttemptContext {
        /// Nil for the failed attempt of a lost session: nothing to ack.
        let delivery: AMQPDelivery?
        let store: PoolStores
        let directory: any EndpointDirectory
        let started: ContinuousClock.Instant
        let token = UUID().uuidString.lowercased() + "-" + UUID().uuidString.lowercased()
        let confirmation = LeaseConfirmation(sentAt: ContinuousClock.now)
        var endpoint: EndpointRecord?
        /// The row's name for the log, also when the lease was refused.
        var endpointName = "unknown"
        var fence = 0
        var held: HeldSession?
        var connectStarted = ContinuousClock.now
    }

    /// Executes `attempt`'s steps from `step` until it asks for nothing more.
    func run(_ attempt: inout JobAttempt, from step: JobAttempt.Step, context: inout AttemptContext) async {
        var step = step
        while true {
            for effect in step.effects { await perform(effect, of: attempt.job, context: context) }
            guard let request = step.request else { return }
            step = attempt.handle(await execute(request, of: attempt.job, context: &context))
        }
    }

    func execute(_ request: JobAttempt.Request, of job: RecoveryJob, context: inout AttemptContext) async -> JobAttempt.Event {
        let store = context.store
        switch request {
        case .reserve:
            if await keeper.reserve(job.endpointId) { return .reserved(.reserved) }
            return .reserved(await keeper.session(job.endpointId) != nil ? .heldHere : .refused)

        case .checkRedis:
            let answers = await redisAnswers(store)
            // Checked after the wait for Redis, which is long on the overloaded machine that sheds.
            if answers, sheddingJobs.load(ordering: .relaxed) { return .sheddingJobs }
            return .redisChecked(answers: answers)

        case .acquireLeaseAndReadRow:
            let directory = context.directory, token = context.token, confirmation = context.confirmation
            // Reading the row needs no lease; the lease is still taken before the session opens.
            async let rowRead = Self.result { try await StaleConnectionRetry.run { try await directory.endpoint(id: job.endpointId) } }
            let lease: JobAttempt.LeaseAnswer
            do {
                let acquisition = try await StaleConnectionRetry.run {
                    confirmation.confirmed(sentAt: ContinuousClock.now)
                    return try await store.leases.acquire(endpointId: job.endpointId, token: token, ttl: leaseTTL, foreignHeartbeatTimeout: foreignHeartbeatTimeout)
                }
                if let fence = acquisition.fence {
                    context.fence = fence
                    lease = .acquired(fence: fence)
                } else {
                    lease = .refused(foreignSessionLive: acquisition == .foreignSessionLive)
                }
            } catch {
                lease = .failed("\(error)")
            }
            switch await rowRead {
            case .success(let row?) where row.isEnabled:
                context.endpoint = row
                context.endpointName = row.name
                return .leaseAndRow(lease, .enabled(updatedAt: row.updatedAt))
            case .success(let row):
                if let row { context.endpointName = row.name }
                return .leaseAndRow(lease, .disabledOrDeleted)
            case .failure(let error):
                return .leaseAndRow(lease, .failed("\(error)"))
            }

        case .openSession:
            guard let endpoint = context.endpoint else { return .openFailed(.other("no endpoint row")) }
            context.connectStarted = ContinuousClock.now
            let token = context.token, fence = context.fence, directory = context.directory
            do {
                let held = try await openUnderLease(endpointId: job.endpointId, token: token, confirmation: context.confirmation, store: store) {
                    try await self.openSession(endpoint, leaseToken: token, fence: fence, attempt: job.attempt, directory: directory)
                }
                context.held = held
                return .sessionOpened(leaseConfirmed: ContinuousClock.now < leaseTiming.localDeadline(confirmedBy: context.confirmation.latest))
            } catch let interrupted as ConnectInterrupted {
                return .openFailed(interrupted.cause)
            } catch let error as SessionError {
                return .openFailed(FailureCause(error))
            } catch {
                return .openFailed(.other("\(error)"))
            }

        case .commitState:
            guard let held = context.held else { return .stateWriteFailed("no session") }
            let token = context.token
            do {
                let value = state(for: held, status: .connected)
                return .stateCommitted(try await StaleConnectionRetry.run { try await store.states.commitRecovered(value, token: token, jobId: job.jobId) })
            } catch {
                return .stateWriteFailed("\(error)")
            }

        case .handOver:
            guard let held = context.held else { return .handedOver(closedEarly: .other("no session")) }
            if await keeper.add(held, leaseConfirmedAt: context.confirmation.latest) { return .stoppedWhileOpening }
            // Closed between the first message and now, its serving task found nothing held to end: the
            // loss, with the peer's own reason (a 1008 included), is ended by the attempt.
            return .handedOver(closedEarly: held.closeRecord.cause)

        case .holdLease(let hold):
            // The lease is set to lapse at the hold's end by itself, so the hold outlives this worker too.
            guard (try? await store.leases.renew([job.endpointId: context.token], ttl: hold))?.isEmpty == true else { return .hold(.notKept) }
            logger.info("server \(job.endpointId): the abandoned handshake may still be answered; holding the lease before the retry", metadata: ["hold": "\(hold)"])
            do {
                try await Task.sleep(for: hold)
                return .hold(.elapsed)
            } catch {
                return .hold(.interrupted)
            }

        case .publishRetry(let step, let pendingTtl):
            let next = job.retried(jobId: UUID().uuidString.lowercased(), at: Date())
            do {
                let delay = Duration.seconds(retryPolicy.delays[min(step, retryPolicy.delays.count - 1)])
                try await StaleConnectionRetry.run {
                    try await store.markers.refreshPending(endpointId: job.endpointId, jobId: next.jobId, ttl: pendingTtl, entersQueueAfter: delay)
                }
                try await publishWaitingForTheBroker { try await bus.publish(retry: next, step: step) }
                return .published(true)
            } catch {
                logger.error("could not schedule the retry of server \(job.endpointId); the job goes back to the queue", metadata: ["error": "\(error)"])
                return .published(false)
            }

        case .publishDeadLetter(let reason, let error):
            do {
                try await publishWaitingForTheBroker {
                    try await bus.publishDead(body: Array(job.encoded()), messageId: job.jobId, endpointId: job.endpointId, reason: reason, error: error, attempt: job.attempt, at: Date())
                }
                metrics.deadLettered()
                return .published(true)
            } catch {
                logger.error("could not dead-letter the job of server \(job.endpointId); the job goes back to the queue", metadata: ["error": "\(error)"])
                return .published(false)
            }

        case .settle(let settlement):
            let result = self.result(of: settlement, job: job, started: context.started)
            if let disposition = settlement.disposition { await apply(disposition, of: result, job: job, store: store) }
            guard let delivery = context.delivery else { return .finished }
            guard settlement.markConnected, let connectedAt = context.held?.connectedAt else {
                await settle(delivery, result, job: job)
                return .finished
            }
            // The table's mark is no part of the outcome: it is written while the result is published.
            async let marked: Void = markConnected(job.endpointId, at: connectedAt, directory: context.directory)
            await settle(delivery, result, job: job)
            await marked
            return .finished

        case .recordDisposition(let settlement):
            if let disposition = settlement.disposition {
                await apply(disposition, of: self.result(of: settlement, job: job, started: context.started), job: job, store: store)
            }
            return .finished

        case .giveBack(let why):
            if let delivery = context.delivery { await giveBack(delivery, job: job, why: why) }
            return .finished

        case .requeue:
            if let delivery = context.delivery { _ = try? await dependencies.consumer.nack(delivery, requeue: true) }
            return .finished
        }
    }

    func perform(_ effect: JobAttempt.Effect, of job: RecoveryJob, context: AttemptContext) async {
        let store = context.store
        switch effect {
        case .cancelReservation:
            await keeper.cancelReservation(job.endpointId)
        case .releaseLease:
            let token = context.token
            _ = try? await StaleConnectionRetry.run { try await store.leases.release(endpointId: job.endpointId, token: token) }
        case .closeSession(let reason):
            context.held?.session.close(code: .goingAway, reason: reason)
            context.held?.mcp.close()
        case .endLostSession(let cause):
            await endSession(job.endpointId, .lost(cause))
        case .endStoppedSession:
            await endSession(job.endpointId, .stopped)
        case .restorePendingMarker:
            // The marker names the job going back to the queue again, not a retry that never went out (it
            // would hold the endpoint back until it expired).
            _ = try? await store.markers.refreshPending(endpointId: job.endpointId, jobId: job.jobId, ttl: .seconds(configuration.pendingTtlSeconds))
        case .clearPendingMarker:
            try? await store.markers.clearPending(endpointIds: [job.endpointId])
        case .log(let note):
            log(note, of: job, context: context)
        }
    }

    /// The attempt's notes in the log, in the original platform's texts where it has them.
    func log(_ note: JobAttempt.Note, of job: RecoveryJob, context: AttemptContext) {
        let id = job.endpointId, name = context.endpointName
        switch note {
        case .handledElsewhere(let foreignSessionLive):
            if foreignSessionLive { logger.info("server \(id) (\(name)) has a live session of another owner: not connecting over it") }
            logger.info("Failed to recover connection for server \(id) (\(name)) - may be handled by another instance")
        case .acquired(let fence):
            logger.info("Acquired distributed lock for server \(id)", metadata: ["fence": "\(fence)", "attempt": "\(job.attempt)"])
        case .recovering:
            logger.info("Recovering missing connection for enabled server \(id) (\(name))", metadata: ["reason": "\(job.reason.rawValue)", "attempt": "\(job.attempt)"])
        case .endpointDisabled:
            logger.info("server \(id) is disabled or deleted: nothing to recover")
        case .attemptFailed(let error):
            logger.warning("Failed to recover connection for server \(id) (\(name))", metadata: ["error": "\(error.message)", "kind": "\(error.kind.rawValue)", "attempt": "\(job.attempt)"])
        case .deadLettered(let reason, let error):
            logger.error("server \(id) dead-lettered and parked", metadata: ["reason": "\(reason.rawValue)", "error": "\(error.message)"])
        case .recovered:
            metrics.worker.connectDuration(ContinuousClock.now - context.connectStarted)
            logger.info("Successfully recovered connection for server \(id) (\(name))", metadata: ["fence": "\(context.fence)"])
        }
    }

    /// The result a settlement publishes.
    func result(of settlement: JobAttempt.Settlement, job: RecoveryJob, started: ContinuousClock.Instant) -> JobResult {
        let elapsed = ContinuousClock.now - started
        return JobResult(
            jobId: job.jobId, endpointId: job.endpointId, outcome: settlement.outcome, instanceId: instanceId, attempt: job.attempt,
            durationMs: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000), error: settlement.error)
    }

    /// `"IsConnected" = true` for a session that came up; a failure is only logged (the next change of
    /// the session writes the row again).
    func markConnected(_ endpointId: EndpointID, at date: Date, directory: any EndpointDirectory) async {
        do {
            try await StaleConnectionRetry.run { try await directory.markConnected(id: endpointId, at: date) }
        } catch {
            logger.warning("could not mark server \(endpointId) connected in the table", metadata: ["error": "\(error)"])
        }
    }

    /// The outcome of `body` as a value, so that it can run beside other work in an `async let`.
    static func result<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// Applies what a settled job means for the endpoint's pending marker and park, in one round trip.
    func apply(_ disposition: JobAttempt.Disposition, of result: JobResult, job: RecoveryJob, store: PoolStores) async {
        let rule = ResultDisposition.of(result, at: Date(), endpointUpdatedAt: disposition.endpointUpdatedAt, parkPeriod: TimeInterval(configuration.parkSeconds))
        do {
            try await StaleConnectionRetry.run { try await store.states.settle(rule, endpointId: job.endpointId, jobId: job.jobId) }
        } catch {
            logger.warning("could not update the pending marker or park of server \(job.endpointId)", metadata: ["error": "\(error)"])
        }
    }

    /// `publish`, waited through a publishing connection that is still coming back (see `BrokerReconnectWait`).
    func publishWaitingForTheBroker(_ publish: () async throws -> Void) async throws {
        try await BrokerReconnectWait.run(stopping: { shuttingDown.load(ordering: .relaxed) }, publish)
    }

    /// Returns a job this worker will not start to the jobs queue as a new message (published with a
    /// confirm, then the delivery acked): a nack with requeue would count towards the queue's delivery
    /// limit, and a healthy job could be dead-lettered by the broker without a result.
    func giveBack(_ delivery: AMQPDelivery, job: RecoveryJob, why: String) async {
        do {
            try await bus.publish(job: job)
            _ = try await dependencies.consumer.ack(delivery)
            logger.debug("gave back the job of server \(job.endpointId): \(why)")
        } catch {
            logger.warning("could not give back the job of server \(job.endpointId); the broker requeues it", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }

    /// How long a job waits for Redis to answer before the worker gives it back.
    var jobStartTimeout: Duration { min(leaseTTL / 2, .seconds(5)) }

    /// Whether Redis answers this worker now: a `TIME` within `jobStartTimeout`. While it does not, the
    /// worker's consumer stops taking jobs (`redisReachable`), so no job waits behind a worker cut off
    /// from Redis.
    func redisAnswers(_ store: PoolStores) async -> Bool {
        // Not awaited past the deadline: a command to a silent Redis ends only at the command timeout.
        let answered = await withDeadline(jobStartTimeout, onTimeout: { false }, onCancel: { false }) {
            (try? await store.leases.serverTime()) != nil
        }
        let answeredBefore = redisReachable.exchange(answered, ordering: .relaxed)
        if answeredBefore, !answered, let consumer = jobConsumer.withLock({ $0 }) {
            try? await dependencies.consumer.cancel(consumer)
        }
        return answered
    }

    /// Publishes the result with a confirm, then acks; on a failed publish the delivery goes back.
    func settle(_ delivery: AMQPDelivery, _ result: JobResult, job: RecoveryJob) async {
        metrics.worker.jobProcessed(outcome: result.outcome.rawValue)
        do {
            try await publishWaitingForTheBroker { try await bus.publish(result: result) }
            _ = try await dependencies.consumer.ack(delivery)
        } catch {
            logger.warning("could not settle the job of server \(job.endpointId); it goes back to the queue", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }

    /// A delivery that is not a job: dead-lettered with reason `malformed`, then acked.
    func deadLetterMalformed(_ delivery: AMQPDelivery, error: MessageDecodingError) async {
        logger.error("dead-lettering a malformed job message", metadata: ["error": "\(error)", "messageId": "\(delivery.properties.messageID ?? "none")"])
        do {
            try await publishWaitingForTheBroker {
                try await bus.publishDead(
                    body: delivery.body, messageId: delivery.properties.messageID, endpointId: nil, reason: .malformed,
                    error: JobError(kind: .permanent, message: "\(error)"), attempt: nil, at: Date())
            }
            _ = try await dependencies.consumer.ack(delivery)
            metrics.deadLettered()
        } catch {
            logger.error("could not dead-letter a malformed job message; it goes back to the queue", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }
}
