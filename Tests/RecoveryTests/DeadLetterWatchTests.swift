import AMQPClient
import Foundation
import Logging
import RecoveryCore
import RedisClient
import Synchronization
import Testing
@testable import Recovery

/// The scheduler's watch on dead letters, against the test servers' RabbitMQ and Redis: a job the broker
/// dead-lettered after its delivery limit is settled (marker cleared, endpoint parked, a `dead` result);
/// a letter the pool published is left alone, and a job a newer one superseded parks nothing.
@Suite struct DeadLetterWatchTests {
    @Test func aJobTheBrokerDeadLetteredHasItsMarkerClearedItsEndpointParkedAndItsLetterKept() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("watch"), extra: ["Queue:DeliveryLimit=0"])
        let topology = configuration.topology
        let declared = try await OperationsTopology.declare(topology, purpose: "watch")
        let store = RedisPoolState(redis: try await OperationsServers.redis())
        let watcher = try await OperationsServers.amqp("ops-test-watch-consumer")
        let recorded = Mutex<[JobResult]>([])
        let watch = DeadLetterWatch(
            consumer: watcher, states: store.states, topology: topology, parkPeriod: 300, logger: Logger(label: "dead-letter-watch-test"))
        let running = Task { await watch.run { result in recorded.withLock { $0.append(result) } } }
        do {
            let bus = JobBus(connection: declared.connection, topology: topology)
            // Broker-dead-lettered: its delivery returned once with a limit of 0.
            let lost = operationsJob(attempt: 2)
            #expect(try await store.markers.markPending(endpointId: lost.endpointId, jobId: lost.jobId, ttl: .seconds(600)))
            // Superseded: its marker names a newer job by the time the copy is read.
            let superseded = operationsJob()
            #expect(try await store.markers.markPending(endpointId: superseded.endpointId, jobId: "newer-job", ttl: .seconds(600)))
            // Published dead by the pool: settled by its worker already.
            let published = operationsJob()
            #expect(try await store.markers.markPending(endpointId: published.endpointId, jobId: published.jobId, ttl: .seconds(600)))
            for job in [lost, superseded] {
                try await bus.publish(job: job)
                let delivery = try #require(try await declared.connection.get(queue: topology.jobsQueue))
                try await declared.connection.nack(delivery, requeue: true)
            }
            try await declared.publishDead(published, reason: .exhausted, error: JobError(kind: .transient, message: "refused"), at: Date())

            let settled = try await operationsPoll {
                recorded.withLock { $0.first { $0.jobId == lost.jobId } }
            }
            #expect(settled.outcome == .dead && settled.instanceId == BrokerDeadLetter.instanceId && settled.attempt == 2)
            #expect(settled.error?.message == "dead-lettered by the broker (delivery_limit) from queue \(topology.jobsQueue)")
            let parks = try await store.markers.parkedEndpoints()
            #expect(parks[lost.endpointId]?.kind == .transient)
            #expect(parks[superseded.endpointId] == nil && parks[published.endpointId] == nil)
            var cache = HeldSessionsCache()
            let ids = [lost, superseded, published].map { EnabledEndpoint(id: $0.endpointId, name: "n", updatedAt: nil) }
            // Every copy read: the watch queue drains, and the operator's letters all stay.
            _ = try await operationsPoll { try await declared.ready(topology.deadWatchQueue) == 0 ? true : nil }
            let pending = try await store.reconcile.observe(enabled: ids, cache: &cache, fullRead: true).pending
            #expect(pending[lost.endpointId] == nil)
            #expect(pending[superseded.endpointId] == "newer-job")
            #expect(pending[published.endpointId] == published.jobId, "a letter the pool published was settled again")
            // Both jobs the broker dead-lettered died (the letters say so too); the pool's own letter was reported by its worker.
            #expect(Set(recorded.withLock { $0.map(\.jobId) }) == [lost.jobId, superseded.jobId])
            #expect(try await declared.ready(topology.deadQueue) == 3)
            try await store.markers.unpark(endpointIds: [lost.endpointId])
            try await store.markers.clearPending(endpointIds: [superseded.endpointId, published.endpointId])
        } catch {
            running.cancel()
            await watcher.close()
            await declared.tearDown()
            throw error
        }
        running.cancel()
        await watcher.close()
        await declared.tearDown()
    }
}
