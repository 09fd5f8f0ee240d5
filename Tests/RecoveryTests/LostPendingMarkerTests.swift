import AMQPClient
import Foundation
import Logging
import PostgresClient
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// A pending marker whose job no queue holds any more (purged, dropped, never published) does not hold
/// its endpoint back for the marker's whole TTL: the next cycle that finds every job queue empty queues
/// the endpoint again. While a job waits anywhere, markers are trusted.
@Suite struct LostPendingMarkerTests {
    @Test func aMarkerWithNoJobAnywhereIsReplacedByANewJob() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("lost"), tablePrefix: "t_lost_\(tag)_")
        let topology = configuration.topology
        let declared = try await OperationsTopology.declare(topology, purpose: "lost")
        let postgres = try await OperationsServers.postgres()
        let redis = try await OperationsServers.redis()
        let store = RedisPoolState(redis: redis)
        let schema = try EndpointSchema(prefix: configuration.tablePrefix)
        let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        let endpoint = EndpointID("lost-\(tag)"), other = EndpointID("waiting-\(tag)")
        func cleanUp() async {
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
            try? await store.markers.clearPending(endpointIds: [endpoint, other])
            try? await store.markers.clearAttempts(endpointIds: [endpoint, other])
            await redis.close()
            await postgres.close()
            await declared.tearDown()
        }
        do {
            try await directory.migrate()
            _ = try await postgres.execute(
                "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ($1, 'lost', 'ws://127.0.0.1:9/mcp/?token=t', 'u', true)",
                [.text(endpoint.rawValue)])
            let reconciler = Reconciler(
                directory: directory, store: store.stores, bus: JobBus(connection: declared.connection, topology: topology),
                configuration: configuration, metrics: PoolMetrics(), logger: Logger(label: "lost-marker-test"),
                jobQueues: JobQueueIdleness(
                    connection: declared.connection, topology: topology,
                    management: try RabbitManagementAPI.resolve(amqpURL: try OperationsServers.variable("AMQP_URL"))))

            // A job waits in the jobs queue (another endpoint's): the marker is trusted.
            _ = try await JobBus(connection: declared.connection, topology: topology).publish(jobs: [operationsJob(other)])
            #expect(try await store.markers.markPending(endpointId: endpoint, jobId: "lost-job", ttl: .seconds(900)))
            let trusted = try await reconciler.reconcile().report
            #expect(trusted.pending == [endpoint])
            #expect(trusted.enqueued.isEmpty)

            // Nothing waits anywhere: the marker names a lost job, and the endpoint is queued again.
            _ = try await declared.drain(topology.jobsQueue)
            let report = try await operationsPoll(within: 30) {
                let report = try await reconciler.reconcile().report
                return report.enqueued.isEmpty ? nil : report
            }
            #expect(report.enqueued == [endpoint])
            let queued = try await declared.drain(topology.jobsQueue).compactMap { try? RecoveryJob.decode(Data($0.body)) }
            #expect(queued.map(\.endpointId) == [endpoint])
            let marker = try await redis.get(RedisKeys.pending(endpoint)).map { String(decoding: $0, as: UTF8.self) }
            #expect(marker == queued.first?.jobId, "the new job's marker replaced the lost one")
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// While other jobs wait, a job purged from the jobs queue is found by the queue's order: a later job
    /// was received, the purged one never was, so its marker goes and its endpoint is queued again.
    @Test func aPurgedJobIsFoundWhileOtherJobsWait() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let configuration = try OperationsServers.configuration(
            prefix: OperationsServers.uniquePrefix("purged"), tablePrefix: "t_purged_\(tag)_", extra: ["ConnectionMonitor:ReconnectCooldownSeconds=0"])
        let topology = configuration.topology
        let declared = try await OperationsTopology.declare(topology, purpose: "purged")
        let postgres = try await OperationsServers.postgres()
        let redis = try await OperationsServers.redis()
        let store = RedisPoolState(redis: redis)
        let schema = try EndpointSchema(prefix: configuration.tablePrefix)
        let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        let purged = EndpointID("purged-\(tag)"), waiting = EndpointID("waiting-\(tag)"), taken = EndpointID("taken-\(tag)")
        func cleanUp() async {
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
            try? await store.markers.clearPending(endpointIds: [purged, waiting, taken])
            try? await store.markers.clearAttempts(endpointIds: [purged, waiting, taken])
            await redis.close()
            await postgres.close()
            await declared.tearDown()
        }
        do {
            try await directory.migrate()
            for id in [purged, waiting] {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ($1, 'n', 'ws://127.0.0.1:9/mcp/?token=t', 'u', true)",
                    [.text(id.rawValue)])
            }
            let bus = JobBus(connection: declared.connection, topology: topology)
            let reconciler = Reconciler(
                directory: directory, store: store.stores, bus: bus,
                configuration: configuration, metrics: PoolMetrics(), logger: Logger(label: "purged-job-test"),
                jobQueues: JobQueueIdleness(
                    connection: declared.connection, topology: topology,
                    management: try RabbitManagementAPI.resolve(amqpURL: try OperationsServers.variable("AMQP_URL"))))

            // The first cycle queues both endpoints; an operator purges the jobs queue.
            #expect(try await reconciler.reconcile().report.enqueued.sorted() == [purged, waiting].sorted())
            let first = try await declared.drain(topology.jobsQueue).compactMap { try? RecoveryJob.decode(Data($0.body)) }
            #expect(Set(first.map(\.endpointId)) == [purged, waiting])
            // `waiting`'s job goes back (it still waits), and a job queued after the purge is received by a worker.
            let waitingJob = try #require(first.first { $0.endpointId == waiting })
            try await bus.publish(job: waitingJob)
            try await Task.sleep(for: QueuedJob.receiptSlack + .milliseconds(500))
            let later = operationsJob(taken)
            #expect(try await store.markers.markPending(endpointId: taken, jobId: later.jobId, ttl: .seconds(900)))
            try await store.arrivals.received(later)

            // The purged job entered the queue before the received one and was never received: its endpoint
            // is queued again in the next cycle, though a job waits. `waiting`'s marker is passed over too
            // (its first copy was never received), so it is queued again as well: one skipped attempt, no harm.
            let report = try await reconciler.reconcile().report
            #expect(report.enqueued.contains(purged), "the purged job's marker still held its endpoint: \(report.summary)")
            let queued = try await declared.drain(topology.jobsQueue).compactMap { try? RecoveryJob.decode(Data($0.body)) }
            let requeued = try #require(queued.last { $0.endpointId == purged })
            let marker = try await redis.get(RedisKeys.pending(purged)).map { String(decoding: $0, as: UTF8.self) }
            #expect(marker == requeued.jobId, "the new job's marker replaced the purged one")
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}
