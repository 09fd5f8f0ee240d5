import AMQPClient
import Foundation
import Logging
import MCP
import RecoveryCore
import Transport

extension WorkerRuntime {
    /// Settles one delivery: decides the outcome, publishes the result with a confirm, then acks. A
    /// delivery whose result could not be published is returned to the queue (nothing is lost).
    func handle(_ delivery: AMQPDelivery) async {
        let started = ContinuousClock.now
        let job: RecoveryJob
        do {
            job = try RecoveryJob.decode(Data(delivery.body))
        } catch {
            await deadLetterMalformed(delivery, error: error)
            return
        }
        guard !Task.isCancelled, !shuttingDown.load(ordering: .relaxed) else {
            await giveBack(delivery, job: job, why: "the worker is stopping")
            return
        }
        guard await keeper.reserve(job.serverId) else {
            if await keeper.session(job.serverId) != nil {
                // Already held here: the job is settled by the session that exists, and its pending
                // marker goes (left behind, it would hold back every job for the endpoint until it expires).
                let result = JobResult(jobId: job.jobId, serverId: job.serverId, outcome: .skipped, instanceId: instanceId, attempt: job.attempt, durationMs: 0)
                await apply(ResultDisposition.of(result, at: Date(), endpointUpdatedAt: nil, parkPeriod: TimeInterval(configuration.parkSeconds)), of: job, store: jobConnections().store)
                await settle(delivery, result, job: job)
            } else {
                await giveBack(delivery, job: job, why: "no free capacity, or a job for the endpoint is running here")
            }
            return
        }
        let connections = jobConnections()
        guard await redisAnswers(connections.store) else {
            await keeper.cancelReservation(job.serverId)
            await giveBack(delivery, job: job, why: "Redis does not answer this worker")
            return
        }
        let outcome = await process(job, store: connections.store, directory: connections.directory)
        if outcome.outcome != .recovered { await keeper.cancelReservation(job.serverId) }
        if outcome.requeue {
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
            return
        }
        let elapsed = ContinuousClock.now - started
        let result = JobResult(
            jobId: job.jobId, serverId: job.serverId, outcome: outcome.outcome, instanceId: instanceId,
            attempt: job.attempt, durationMs: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            error: outcome.error)
        if !outcome.settledInRedis {
            await apply(ResultDisposition.of(result, at: Date(), endpointUpdatedAt: outcome.endpointUpdatedAt, parkPeriod: TimeInterval(configuration.parkSeconds)), of: job, store: connections.store)
        }
        guard let connectedAt = outcome.connectedAt else {
            await settle(delivery, result, job: job)
            return
        }
        // The table's mark is no part of the outcome: it is written while the result is published.
        async let marked: Void = markConnected(job.serverId, at: connectedAt, directory: connections.directory)
        await settle(delivery, result, job: job)
        await marked
    }

    /// What `process` decided.
    struct ProcessOutcome {
        var outcome: JobOutcome
        var error: JobError?
        /// The row's `"UpdatedAt"`, recorded in a park so that an edit of the row ends it.
        var endpointUpdatedAt: Date?
        /// Nothing could be settled (the broker refused a retry or dead letter): the delivery goes back.
        var requeue = false
        /// The pending marker and park were already settled in Redis, with the state write.
        var settledInRedis = false
        /// The session came up at this time: `"IsConnected"` is to be marked in the table.
        var connectedAt: Date?
    }

    /// Lease (while the row is read), session (while its catalog is read), then the state write that also
    /// settles the job in Redis; or the retry or dead letter that failure calls for.
    func process(_ job: RecoveryJob, store: SessionStateStore, directory: any EndpointDirectory) async -> ProcessOutcome {
        let token = UUID().uuidString.lowercased() + "-" + UUID().uuidString.lowercased()
        // Reading the row needs no lease; the lease is still taken before the session opens.
        async let rowRead = Self.result { try await StaleConnectionRetry.run { try await directory.endpoint(id: job.serverId) } }
        let fence: Int
        let confirmation = LeaseConfirmation(sentAt: ContinuousClock.now)
        do {
            let acquisition = try await StaleConnectionRetry.run {
                confirmation.confirmed(sentAt: ContinuousClock.now)
                return try await store.acquireLease(serverId: job.serverId, token: token, ttl: leaseTTL, foreignHeartbeatTimeout: foreignHeartbeatTimeout)
            }
            guard let acquired = acquisition.fence else {
                let name = (try? await rowRead.get())??.name ?? "unknown"
                if acquisition == .foreignSessionLive {
                    logger.info("server \(job.serverId) (\(name)) has a live session of another owner: not connecting over it")
                }
                logger.info("Failed to recover connection for server \(job.serverId) (\(name)) - may be handled by another instance")
                return ProcessOutcome(outcome: .skipped)
            }
            fence = acquired
        } catch {
            _ = await rowRead
            return await retryOrDeadLetter(job, cause: .other("lease unavailable: \(error)"), token: nil, endpoint: nil, store: store)
        }
        logger.info("Acquired distributed lock for server \(job.serverId)", metadata: ["fence": "\(fence)", "attempt": "\(job.attempt)"])

        let endpoint: EndpointRecord
        switch await rowRead {
        case .success(let row?) where row.isEnabled:
            endpoint = row
        case .success:
            _ = try? await StaleConnectionRetry.run { try await store.releaseLease(serverId: job.serverId, token: token) }
            logger.info("server \(job.serverId) is disabled or deleted: nothing to recover")
            return ProcessOutcome(outcome: .stopped)
        case .failure(let error):
            return await retryOrDeadLetter(job, cause: .other("endpoint row unavailable: \(error)"), token: token, endpoint: nil, store: store)
        }
        logger.info("Recovering missing connection for enabled server \(endpoint.id) (\(endpoint.name))", metadata: ["reason": "\(job.reason.rawValue)", "attempt": "\(job.attempt)"])

        let connectStarted = ContinuousClock.now
        let held: HeldSession
        do {
            held = try await openUnderLease(serverId: job.serverId, token: token, confirmation: confirmation, store: store) {
                try await self.openSession(endpoint, leaseToken: token, fence: fence, attempt: job.attempt, directory: directory)
            }
        } catch let interrupted as ConnectInterrupted {
            return await failedOpen(job, cause: interrupted.cause, token: token, endpoint: endpoint, store: store)
        } catch let error as SessionError {
            return await failedOpen(job, cause: FailureCause(error), token: token, endpoint: endpoint, store: store)
        } catch {
            return await retryOrDeadLetter(job, cause: .other("\(error)"), token: token, endpoint: endpoint, store: store)
        }

        guard ContinuousClock.now < leaseTiming.localDeadline(confirmedBy: confirmation.latest) else {
            held.session.close(code: .goingAway, reason: "lease not confirmed")
            held.mcp.close()
            return await retryOrDeadLetter(job, cause: .other("lease renewal not confirmed while connecting"), token: token, endpoint: endpoint, store: store)
        }
        let stateWritten: Bool
        do {
            let value = state(for: held, status: .connected)
            stateWritten = try await StaleConnectionRetry.run { try await store.commitRecovered(value, token: token, jobId: job.jobId) }
        } catch {
            held.session.close(code: .goingAway, reason: "state unavailable")
            held.mcp.close()
            return await retryOrDeadLetter(job, cause: .other("state write failed: \(error)"), token: token, endpoint: endpoint, store: store)
        }
        guard stateWritten else {
            held.session.close(code: .goingAway, reason: "lease lost")
            held.mcp.close()
            logger.info("Failed to recover connection for server \(endpoint.id) (\(endpoint.name)) - may be handled by another instance")
            return ProcessOutcome(outcome: .skipped, settledInRedis: true)
        }
        await keeper.add(held, leaseConfirmedAt: confirmation.latest)
        if let cause = held.closeRecord.cause {
            // Closed between the first message and now: its serving task found nothing held to end, so the
            // loss (with the peer's own reason, a 1008 included) is ended here.
            await endSession(held.serverId, .lost(cause))
            return ProcessOutcome(outcome: .recovered, endpointUpdatedAt: endpoint.updatedAt, settledInRedis: true)
        }
        metrics.connectDuration(ContinuousClock.now - connectStarted)
        logger.info("Successfully recovered connection for server \(endpoint.id) (\(endpoint.name))", metadata: ["fence": "\(fence)"])
        return ProcessOutcome(outcome: .recovered, endpointUpdatedAt: endpoint.updatedAt, settledInRedis: true, connectedAt: held.connectedAt)
    }

    /// `"IsConnected" = true` for a session that came up; a failure is only logged (the next change of
    /// the session writes the row again).
    func markConnected(_ serverId: String, at date: Date, directory: any EndpointDirectory) async {
        do {
            try await StaleConnectionRetry.run { try await directory.markConnected(id: serverId, at: date) }
        } catch {
            logger.warning("could not mark server \(serverId) connected in the table", metadata: ["error": "\(error)"])
        }
    }

    /// The outcome of `body` as a value, so that it can run beside other work in an `async let`.
    static func result<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// An open that failed; one abandoned after its upgrade request went out first keeps the lease through
    /// `AbandonedHandshakeHold`, so that no retry, here or elsewhere, can be admitted before a late answer.
    func failedOpen(_ job: RecoveryJob, cause: FailureCause, token: String, endpoint: EndpointRecord, store: SessionStateStore) async -> ProcessOutcome {
        guard let hold = AbandonedHandshakeHold.duration(after: cause, connectTimeout: .seconds(configuration.connectTimeoutSeconds)) else {
            return await retryOrDeadLetter(job, cause: cause, token: token, endpoint: endpoint, store: store)
        }
        // The lease is set to lapse at the hold's end by itself, so the hold outlives this worker too.
        let kept = (try? await store.renewLeases([job.serverId: token], ttl: hold))?.isEmpty == true
        guard kept else {
            return await retryOrDeadLetter(job, cause: cause, token: token, endpoint: endpoint, store: store)
        }
        logger.info("server \(job.serverId): the abandoned handshake may still be answered; holding the lease before the retry", metadata: ["hold": "\(hold)"])
        do {
            try await Task.sleep(for: hold)
        } catch {
            // Stopping: the lease is left to lapse at the end of the hold.
            return await retryOrDeadLetter(job, cause: cause, token: nil, endpoint: endpoint, store: store)
        }
        return await retryOrDeadLetter(job, cause: cause, token: token, endpoint: endpoint, store: store)
    }

    /// A failed attempt: released lease, then a delayed retry or a dead letter with the endpoint parked,
    /// as `decision` says (by default the retry policy's).
    func retryOrDeadLetter(
        _ job: RecoveryJob, cause: FailureCause, decision: RetryDecision? = nil, token: String?, endpoint: EndpointRecord?,
        store: SessionStateStore
    ) async -> ProcessOutcome {
        if let token { _ = try? await StaleConnectionRetry.run { try await store.releaseLease(serverId: job.serverId, token: token) } }
        let error = cause.jobError
        let name = endpoint?.name ?? "unknown"
        logger.warning("Failed to recover connection for server \(job.serverId) (\(name))", metadata: ["error": "\(error.message)", "kind": "\(error.kind.rawValue)", "attempt": "\(job.attempt)"])
        switch decision ?? retryPolicy.decide(failedAttempt: job.attempt, kind: error.kind) {
        case .retry(_, let step, let delay):
            let next = job.retried(jobId: UUID().uuidString.lowercased(), at: Date())
            do {
                try await StaleConnectionRetry.run { try await store.refreshPending(serverId: job.serverId, jobId: next.jobId, ttl: .seconds(delay + configuration.pendingTtlSeconds)) }
                try await publishWaitingForTheBroker { try await bus.publish(retry: next, step: step) }
                return ProcessOutcome(outcome: .retrying, error: error, endpointUpdatedAt: endpoint?.updatedAt)
            } catch {
                // The marker names the job going back to the queue again, not a retry that never went out
                // (it would hold the endpoint back until it expired).
                _ = try? await store.refreshPending(serverId: job.serverId, jobId: job.jobId, ttl: .seconds(configuration.pendingTtlSeconds))
                logger.error("could not schedule the retry of server \(job.serverId); the job goes back to the queue", metadata: ["error": "\(error)"])
                return ProcessOutcome(outcome: .retrying, error: nil, requeue: true)
            }
        case .deadLetter(let reason):
            return await deadLetter(job, reason: reason, error: error, endpoint: endpoint)
        }
    }

    /// Publishes the job to the dead-letter queue with why it died, and parks the endpoint.
    func deadLetter(_ job: RecoveryJob, reason: DeadLetterReason, error: JobError, endpoint: EndpointRecord?) async -> ProcessOutcome {
        let now = Date()
        do {
            try await publishWaitingForTheBroker {
                try await bus.publishDead(body: Array(job.encoded()), messageId: job.jobId, serverId: job.serverId, reason: reason, error: error, attempt: job.attempt, at: now)
            }
        } catch {
            logger.error("could not dead-letter the job of server \(job.serverId); the job goes back to the queue", metadata: ["error": "\(error)"])
            return ProcessOutcome(outcome: .dead, error: nil, requeue: true)
        }
        metrics.deadLettered()
        logger.error("server \(job.serverId) dead-lettered and parked", metadata: ["reason": "\(reason.rawValue)", "error": "\(error.message)"])
        return ProcessOutcome(outcome: .dead, error: error, endpointUpdatedAt: endpoint?.updatedAt)
    }

    /// Applies what a settled job means for the endpoint's pending marker and park, in one round trip.
    func apply(_ disposition: ResultDisposition, of job: RecoveryJob, store: SessionStateStore) async {
        do {
            try await StaleConnectionRetry.run { try await store.settle(disposition, serverId: job.serverId, jobId: job.jobId) }
        } catch {
            logger.warning("could not update the pending marker or park of server \(job.serverId)", metadata: ["error": "\(error)"])
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
            logger.debug("gave back the job of server \(job.serverId): \(why)")
        } catch {
            logger.warning("could not give back the job of server \(job.serverId); the broker requeues it", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }

    /// How long a job waits for Redis to answer before the worker gives it back.
    var jobStartTimeout: Duration { min(leaseTTL / 2, .seconds(5)) }

    /// Whether Redis answers this worker now: a PING within `jobStartTimeout`. While it does not, the
    /// worker's consumer stops taking jobs (`redisReachable`), so no job waits behind a worker cut off
    /// from Redis.
    func redisAnswers(_ store: SessionStateStore) async -> Bool {
        let answered = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.redis.send("PING")) != nil }
            group.addTask { [jobStartTimeout] in
                try? await Task.sleep(for: jobStartTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        redisReachable.store(answered, ordering: .relaxed)
        return answered
    }

    /// Publishes the result with a confirm, then acks; on a failed publish the delivery goes back.
    func settle(_ delivery: AMQPDelivery, _ result: JobResult, job: RecoveryJob) async {
        metrics.jobProcessed(outcome: result.outcome.rawValue)
        do {
            try await publishWaitingForTheBroker { try await bus.publish(result: result) }
            _ = try await dependencies.consumer.ack(delivery)
        } catch {
            logger.warning("could not settle the job of server \(job.serverId); it goes back to the queue", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }

    /// A delivery that is not a job: dead-lettered with reason `malformed`, then acked.
    func deadLetterMalformed(_ delivery: AMQPDelivery, error: MessageDecodingError) async {
        logger.error("dead-lettering a malformed job message", metadata: ["error": "\(error)", "messageId": "\(delivery.properties.messageID ?? "none")"])
        do {
            try await publishWaitingForTheBroker {
                try await bus.publishDead(
                    body: delivery.body, messageId: delivery.properties.messageID, serverId: nil, reason: .malformed,
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
