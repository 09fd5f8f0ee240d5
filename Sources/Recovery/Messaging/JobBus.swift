import AMQPClient
import Foundation
import RecoveryCore

/// Publishing side of the pool's messaging: jobs, retries, dead letters, results and control messages,
/// each a persistent JSON message with a `message_id`, published mandatory with a confirm.
public struct JobBus: Sendable {
    public let connection: AMQPConnection
    public let topology: Topology

    public init(connection: AMQPConnection, topology: Topology) {
        self.connection = connection
        self.topology = topology
    }

    /// Publishes new jobs in one confirmed batch; the outcome of each, in order.
    public func publish(jobs: [RecoveryJob]) async throws -> [PublishOutcome] {
        guard !jobs.isEmpty else { return [] }
        let route = topology.jobRoute
        return try await connection.publish(jobs.map { job in
            message(route, body: job.encoded(), id: job.jobId, headers: ["x-recovery-server-id": .string(job.endpointId.rawValue)])
        })
    }

    /// Publishes one job and requires its confirm.
    public func publish(job: RecoveryJob) async throws {
        let outcome = try await publish(jobs: [job])[0]
        try Self.require(outcome, what: "job \(job.jobId) for server \(job.endpointId)")
    }

    /// Publishes `job` (already carrying its next attempt) into retry step `step`'s delay queue.
    public func publish(retry job: RecoveryJob, step: Int) async throws {
        let outcome = try await connection.publish(message(
            topology.retryRoute(step: step), body: job.encoded(), id: job.jobId,
            headers: ["x-recovery-server-id": .string(job.endpointId.rawValue)]))
        try Self.require(outcome, what: "retry of job \(job.jobId) for server \(job.endpointId)")
    }

    /// Publishes a dead letter: the original body, with why it died in its headers.
    public func publishDead(body: [UInt8], messageId: String?, endpointId: EndpointID?, reason: DeadLetterReason, error: JobError?, attempt: Int?, at date: Date) async throws {
        var headers: AMQPTable = [
            Topology.DeadLetterHeader.reason: .string(reason.rawValue),
            Topology.DeadLetterHeader.diedAt: .string(Timestamp.format(date)),
        ]
        if let error {
            headers[Topology.DeadLetterHeader.errorKind] = .string(error.kind.rawValue)
            headers[Topology.DeadLetterHeader.error] = .string(String(error.message.prefix(1000)))
        }
        if let attempt { headers[Topology.DeadLetterHeader.attempt] = .int64(Int64(attempt)) }
        if let endpointId { headers[Topology.DeadLetterHeader.endpointId] = .string(endpointId.rawValue) }
        let outcome = try await connection.publish(OutboundMessage(
            exchange: topology.deadRoute.exchange, routingKey: topology.deadRoute.routingKey, body: body,
            properties: .persistent(contentType: "application/json", messageID: messageId ?? UUID().uuidString.lowercased(), headers: headers),
            mandatory: true))
        try Self.require(outcome, what: "dead letter for server \(endpointId ?? "unknown")")
    }

    /// Publishes a job result.
    public func publish(result: JobResult) async throws {
        let outcome = try await connection.publish(message(topology.resultRoute, body: result.encoded(), id: result.jobId + ":" + result.outcome.rawValue, headers: [:]))
        try Self.require(outcome, what: "result of job \(result.jobId)")
    }

    /// Sends a control message to one worker; false when no worker of that id is listening.
    public func send(control: ControlMessage) async throws -> Bool {
        let outcome = try await connection.publish(OutboundMessage(
            exchange: topology.controlRoute(instanceId: control.instanceId).exchange,
            routingKey: control.instanceId, body: Array(control.encoded()),
            properties: AMQPProperties(contentType: "application/json", deliveryMode: 1, messageID: UUID().uuidString.lowercased()),
            mandatory: true))
        switch outcome {
        case .confirmed: return true
        case .returned: return false
        default:
            try Self.require(outcome, what: "stop for server \(control.endpointId) to \(control.instanceId)")
            return false
        }
    }

    private func message(_ route: Route, body: Data, id: String, headers: AMQPTable) -> OutboundMessage {
        OutboundMessage(
            exchange: route.exchange, routingKey: route.routingKey, body: Array(body),
            properties: .persistent(contentType: "application/json", messageID: id, headers: headers.isEmpty ? nil : headers),
            mandatory: true)
    }

    static func require(_ outcome: PublishOutcome, what: String) throws {
        switch outcome {
        case .confirmed: return
        case .returned(let code, let text): throw PublishFailure(what: what, detail: "returned by the broker (\(code) \(text))")
        case .nacked: throw PublishFailure(what: what, detail: "refused by the broker (nack)")
        case .unconfirmed(let error): throw PublishFailure(what: what, detail: "not confirmed: \(error)")
        }
    }
}

/// A publish the broker did not confirm.
public struct PublishFailure: Error, CustomStringConvertible {
    public let what: String
    public let detail: String
    public var description: String { "publishing \(what) failed: \(detail)" }
}
