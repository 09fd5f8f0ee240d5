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
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
            return
        }
        guard await keeper.reserve(job.serverId) else {
            if await keeper.session(job.serverId) != nil {
                // Already held here: the job is settled by the session that exists.
                await settle(delivery, JobResult(jobId: job.jobId, serverId: job.serverId, outcome: .skipped, instanceId: instanceId, attempt: job.attempt, durationMs: 0), job: job)
            } else {
                _ = try? await dependencies.consumer.nack(delivery, requeue: true)
            }
            return
        }
        let outcome = await process(job)
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
        await apply(ResultDisposition.of(result, at: Date(), endpointUpdatedAt: outcome.endpointUpdatedAt, parkPeriod: TimeInterval(configuration.parkSeconds)), of: job)
        await settle(delivery, result, job: job)
    }

    /// What `process` decided.
    struct ProcessOutcome {
        var outcome: JobOutcome
        var error: JobError?
        /// The row's `"UpdatedAt"`, recorded in a park so that an edit of the row ends it.
        var endpointUpdatedAt: Date?
        /// Nothing could be settled (the broker refused a retry or dead letter): the delivery goes back.
        var requeue = false
    }

    /// Lease, row, session, state, row update; or the retry or dead letter that failure calls for.
    func process(_ job: RecoveryJob) async -> ProcessOutcome {
        let token = UUID().uuidString.lowercased() + "-" + UUID().uuidString.lowercased()
        let fence: Int
        do {
            guard let acquired = try await store.acquireLease(serverId: job.serverId, token: token, ttl: leaseTTL) else {
                let name = (try? await directory.endpoint(id: job.serverId))?.name ?? "unknown"
                logger.info("Failed to recover connection for server \(job.serverId) (\(name)) - may be handled by another instance")
                return ProcessOutcome(outcome: .skipped)
            }
            fence = acquired
        } catch {
            return await retryOrDeadLetter(job, cause: .other("lease unavailable: \(error)"), token: nil, endpoint: nil)
        }
        logger.info("Acquired distributed lock for server \(job.serverId)", metadata: ["fence": "\(fence)", "attempt": "\(job.attempt)"])

        let endpoint: EndpointRecord
        do {
            guard let row = try await directory.endpoint(id: job.serverId), row.isEnabled else {
                _ = try? await store.releaseLease(serverId: job.serverId, token: token)
                logger.info("server \(job.serverId) is disabled or deleted: nothing to recover")
                return ProcessOutcome(outcome: .stopped)
            }
            endpoint = row
        } catch {
            return await retryOrDeadLetter(job, cause: .other("endpoint row unavailable: \(error)"), token: token, endpoint: nil)
        }
        logger.info("Recovering missing connection for enabled server \(endpoint.id) (\(endpoint.name))", metadata: ["reason": "\(job.reason.rawValue)", "attempt": "\(job.attempt)"])

        let connectStarted = ContinuousClock.now
        let held: HeldSession
        do {
            held = try await openSession(endpoint, leaseToken: token, fence: fence)
        } catch let error as SessionError {
            return await retryOrDeadLetter(job, cause: FailureCause(error), token: token, endpoint: endpoint)
        } catch {
            return await retryOrDeadLetter(job, cause: .other("\(error)"), token: token, endpoint: endpoint)
        }

        let stateWritten: Bool
        do {
            stateWritten = try await store.writeState(state(for: held, status: .connected), token: token)
        } catch {
            held.session.close(code: .goingAway, reason: "state unavailable")
            held.mcp.close()
            return await retryOrDeadLetter(job, cause: .other("state write failed: \(error)"), token: token, endpoint: endpoint)
        }
        guard stateWritten else {
            held.session.close(code: .goingAway, reason: "lease lost")
            held.mcp.close()
            logger.info("Failed to recover connection for server \(endpoint.id) (\(endpoint.name)) - may be handled by another instance")
            return ProcessOutcome(outcome: .skipped)
        }
        await keeper.add(held)
        if !held.session.isOpen {
            // Closed between the first message and now: the serving task may have ended it before it was held.
            await endSession(held.serverId, .lost("closed while opening"))
            return ProcessOutcome(outcome: .recovered, endpointUpdatedAt: endpoint.updatedAt)
        }
        metrics.connectDuration(ContinuousClock.now - connectStarted)
        do {
            try await directory.markConnected(id: endpoint.id, at: held.connectedAt)
        } catch {
            logger.warning("could not mark server \(endpoint.id) connected in the table", metadata: ["error": "\(error)"])
        }
        logger.info("Successfully recovered connection for server \(endpoint.id) (\(endpoint.name))", metadata: ["fence": "\(fence)"])
        return ProcessOutcome(outcome: .recovered, endpointUpdatedAt: endpoint.updatedAt)
    }

    /// A failed attempt: released lease, then a delayed retry or a dead letter with the endpoint parked.
    func retryOrDeadLetter(_ job: RecoveryJob, cause: FailureCause, token: String?, endpoint: EndpointRecord?) async -> ProcessOutcome {
        if let token { _ = try? await store.releaseLease(serverId: job.serverId, token: token) }
        let error = cause.jobError
        let name = endpoint?.name ?? "unknown"
        logger.warning("Failed to recover connection for server \(job.serverId) (\(name))", metadata: ["error": "\(error.message)", "kind": "\(error.kind.rawValue)", "attempt": "\(job.attempt)"])
        switch retryPolicy.decide(failedAttempt: job.attempt, kind: error.kind) {
        case .retry(_, let step, let delay):
            let next = job.retried(jobId: UUID().uuidString.lowercased(), at: Date())
            do {
                try await store.refreshPending(serverId: job.serverId, jobId: next.jobId, ttl: .seconds(delay + configuration.pendingTtlSeconds))
                try await bus.publish(retry: next, step: step)
                return ProcessOutcome(outcome: .retrying, error: error, endpointUpdatedAt: endpoint?.updatedAt)
            } catch {
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
            try await bus.publishDead(body: Array(job.encoded()), messageId: job.jobId, serverId: job.serverId, reason: reason, error: error, attempt: job.attempt, at: now)
        } catch {
            logger.error("could not dead-letter the job of server \(job.serverId); the job goes back to the queue", metadata: ["error": "\(error)"])
            return ProcessOutcome(outcome: .dead, error: nil, requeue: true)
        }
        metrics.deadLettered()
        logger.error("server \(job.serverId) dead-lettered and parked", metadata: ["reason": "\(reason.rawValue)", "error": "\(error.message)"])
        return ProcessOutcome(outcome: .dead, error: error, endpointUpdatedAt: endpoint?.updatedAt)
    }

    /// Applies what a settled job means for the endpoint's pending marker and park.
    func apply(_ disposition: ResultDisposition, of job: RecoveryJob) async {
        do {
            if disposition.clearPending { try await store.clearPending(serverId: job.serverId, ifJob: job.jobId) }
            if let park = disposition.park { try await store.park(park) }
            if disposition.clearPark {
                try await store.unpark(serverIds: [job.serverId])
                try await store.clearAttempts(serverIds: [job.serverId])
            }
        } catch {
            logger.warning("could not update the pending marker or park of server \(job.serverId)", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes the result with a confirm, then acks; on a failed publish the delivery goes back.
    func settle(_ delivery: AMQPDelivery, _ result: JobResult, job: RecoveryJob) async {
        metrics.jobProcessed(outcome: result.outcome.rawValue)
        do {
            try await bus.publish(result: result)
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
            try await bus.publishDead(
                body: delivery.body, messageId: delivery.properties.messageID, serverId: nil, reason: .malformed,
                error: JobError(kind: .permanent, message: "\(error)"), attempt: nil, at: Date())
            _ = try await dependencies.consumer.ack(delivery)
            metrics.deadLettered()
        } catch {
            logger.error("could not dead-letter a malformed job message; it goes back to the queue", metadata: ["error": "\(error)"])
            _ = try? await dependencies.consumer.nack(delivery, requeue: true)
        }
    }
}
