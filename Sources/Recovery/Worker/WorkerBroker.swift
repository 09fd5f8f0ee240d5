import AMQPClient
import Foundation
import RecoveryCore

/// What a worker publishes: the topology it needs, jobs it gives back or hands off, retries, dead letters
/// and results, each confirmed. `JobBus` over RabbitMQ; a recording one in the server-free tests.
public protocol WorkerBus: Sendable {
    func declareTopology() async throws
    func publish(job: RecoveryJob) async throws
    func publish(retry job: RecoveryJob, step: Int) async throws
    func publishDead(body: [UInt8], messageId: String?, endpointId: EndpointID?, reason: DeadLetterReason, error: JobError?, attempt: Int?, at date: Date) async throws
    func publish(result: JobResult) async throws
}

extension JobBus: WorkerBus {
    public func declareTopology() async throws {
        try await TopologyDeclarer.declare(topology, on: connection)
    }
}

/// Where a worker's jobs and stops arrive, and where it settles them: its consuming `AMQPConnection`; an
/// in-memory broker in the server-free tests.
public protocol WorkerInbox: Sendable {
    /// Declares this worker's control queue and returns its name.
    func declareControlQueue(_ topology: Topology, instanceId: String) async throws -> String
    func setPrefetch(_ count: UInt16) async throws
    func startConsuming(queue: String, exclusive: Bool) async throws -> AMQPConsumer
    func cancel(_ consumer: AMQPConsumer) async throws
    @discardableResult func ack(_ delivery: AMQPDelivery) async throws -> AcknowledgementResult
    @discardableResult func nack(_ delivery: AMQPDelivery, requeue: Bool) async throws -> AcknowledgementResult
}

extension AMQPConnection: WorkerInbox {
    public func declareControlQueue(_ topology: Topology, instanceId: String) async throws -> String {
        try await TopologyDeclarer.declareControlQueue(topology, instanceId: instanceId, on: self)
    }

    public func startConsuming(queue: String, exclusive: Bool) async throws -> AMQPConsumer {
        try await consume(queue: queue, exclusive: exclusive)
    }
}
