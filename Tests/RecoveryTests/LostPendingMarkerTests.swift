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
}
