import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// The pool on clustered servers (`scripts/ha-services.sh`: three RabbitMQ nodes, Redis behind three
/// sentinels, a Postgres primary with a streaming standby), each losing the server the pool is attached
/// to. Judged from Xiaozhi's side like the fault scenarios, with one `fault …` line of figures each.
/// An outage suite: it stops and restarts the clustered servers (never the single ones).
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: ClusteredServers.available, "scripts/ha-services.sh is not running"))
struct ClusteredServersOutageTests {
    @Test func aLeaseTheReplicaAcknowledgedIsTakenAndOneAskingForMoreReplicasIsNot() async throws {
        try await FaultScenario.withCluster(servers: .clustered) { cluster in
            let one = RedisPoolState(redis: cluster.redis, acquireReplicas: 1)
            let acquired = try await one.leases.acquire(endpointId: "wait-1", token: "a", ttl: .seconds(10), foreignHeartbeatTimeout: nil)
            #expect(acquired.fence != nil)
            let two = RedisPoolState(redis: cluster.redis, acquireReplicas: 2, acquireReplicaTimeout: .milliseconds(50))
            await #expect(throws: RedisStateError.self) {
                _ = try await two.leases.acquire(endpointId: "wait-2", token: "a", ttl: .seconds(10), foreignHeartbeatTimeout: nil)
            }
            #expect(try await cluster.redis.get(RedisKeys.lease("wait-2")) == nil)
        }
    }

    @Test func stoppingTheBrokerNodeThePoolUsesLosesNoJobAndConsumersComeBack() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster(servers: .clustered) { cluster in
            var figures = FaultFigures(name: "rabbitmq-node-stop", endpoints: count + 10, workers: workerCount)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            for _ in 0..<workerCount { try cluster.startWorker() }
            // Every process lists node 1 first, so it is the node they all use; stop it while jobs flow.
            #expect(await eventually(timeout: .seconds(60)) { ((try? await cluster.simulatorStatus())?.connectedCount ?? 0) >= 1 })
            let topology = cluster.configuration.topology
            let members = try ServerControl.clustered("rabbitmqctl", "2", "list_queues", "name", "members")
            try ServerControl.clustered("rabbit-stop-app", "1")
            let stoppedAt = ContinuousClock.now
            do {
                let consumersBack = await eventually(timeout: .seconds(30)) {
                    guard let jobs = try? await cluster.amqp.inspectQueue(topology.jobsQueue),
                          let results = try? await cluster.amqp.inspectQueue(topology.resultsQueue) else { return false }
                    return jobs.consumerCount == workerCount && results.consumerCount >= 1
                }
                let consumersBackSeconds = FaultScenario.seconds(ContinuousClock.now - stoppedAt)
                // Jobs published after the failover flow through the other nodes.
                #expect(await eventually(timeout: .seconds(30)) { (try? await cluster.seedEndpoints((count + 1)...(count + 10))) != nil })
                let allBack = try await cluster.waitUntilConnected(count + 10, timeout: FaultScenario.connectTimeout(count + 10))
                figures.allBackSeconds = allBack ? FaultScenario.seconds(ContinuousClock.now - stoppedAt) : nil
                // A result lost in the failover would leave its endpoint's pending marker behind until its TTL.
                let markersGone = await eventually(timeout: .seconds(30)) {
                    guard let keys = try? await cluster.redis.scanAllKeys(matching: RedisKeys.pending("*")) else { return false }
                    return keys.isEmpty
                }
                figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: .seconds(2))
                figures.neverBack = try await FaultScenario.notConnected(cluster, 1...(count + 10)).count
                figures.alive = FaultScenario.processesAlive(cluster)
                figures.extra = [("consumers_back_seconds", String(format: "%.1f", consumersBackSeconds)), ("pending_markers_cleared", markersGone ? "yes" : "no")]
                figures.report()

                let jobsMembers = members.split(separator: "\n").first { $0.hasPrefix(topology.jobsQueue + "\t") } ?? ""
                #expect(jobsMembers.contains("ha1-") && jobsMembers.contains("ha2-") && jobsMembers.contains("ha3-"),
                        "the jobs queue's replicas do not cover the three nodes: \(members)")
                let failedOver = ([cluster.scheduler].compactMap { $0 } + cluster.workers).allSatisfy { $0.log.contains("AMQP connection restored") }
                #expect(failedOver, "a process did not move to another node:\n\(cluster.logs)")
                #expect(consumersBack, "consumers not back on the other nodes:\n\(cluster.logs)")
                #expect(allBack && figures.neverBack == 0, "endpoints not back after the node stopped:\n\(cluster.logs)")
                #expect(markersGone, "pending markers left behind (a job or result lost):\n\(cluster.logs)")
                #expect(figures.evictionsDuring == 0, "\(cluster.logs)")
                #expect(figures.alive, "\(FaultScenario.exited(cluster))")
            } catch {
                _ = try? ServerControl.clustered("rabbit-start-app", "1")
                throw error
            }
            try ServerControl.clustered("rabbit-start-app", "1")
        }
    }

    @Test func killingTheRedisMasterKeepsOneSessionPerEndpointAndEveryEndpointComesBack() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster(servers: .clustered) { cluster in
            var figures = FaultFigures(name: "redis-master-kill", endpoints: count, workers: workerCount)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            for _ in 0..<workerCount { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")
            try await Task.sleep(for: .seconds(2))
            let before = await FaultScenario.watchEvictions(cluster, for: .zero)

            let killedPort = try ServerControl.clustered("redis-kill-master").trimmingCharacters(in: .whitespacesAndNewlines)
            let killedAt = ContinuousClock.now
            do {
                let allBack = try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count))
                figures.allBackSeconds = allBack ? FaultScenario.seconds(ContinuousClock.now - killedAt) : nil
                figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: FaultScenario.leaseTTL * 2) - before
                let newMaster = try ServerControl.clustered("redis-master-port").trimmingCharacters(in: .whitespacesAndNewlines)
                figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
                figures.alive = FaultScenario.processesAlive(cluster)
                figures.extra = [("killed_master", killedPort), ("new_master", newMaster)]
                figures.report()

                #expect(newMaster != killedPort, "the sentinels did not promote the replica")
                #expect(cluster.workers.contains { $0.log.contains("Redis master changed") }, "no worker said it follows the new master:\n\(cluster.logs)")
                #expect(figures.evictionsDuring == 0, "duplicate sessions during the failover:\n\(cluster.logs)")
                #expect(allBack && figures.neverBack == 0, "endpoints not back after the failover:\n\(cluster.logs)")
                #expect(figures.alive, "\(FaultScenario.exited(cluster))")
            } catch {
                _ = try? ServerControl.clustered("redis-restore")
                throw error
            }
            try ServerControl.clustered("redis-restore")
        }
    }

    @Test func promotingTheStandbyAfterThePrimaryStopsKeepsTheSchedulerReconciling() async throws {
        let count = FaultScenario.endpoints
        defer { _ = try? ServerControl.clustered("pg-reset") }
        try await FaultScenario.withCluster(servers: .clustered) { cluster in
            var figures = FaultFigures(name: "postgres-failover", endpoints: count + 5, workers: 1)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")

            try ServerControl.clustered("pg-stop-primary")
            let stoppedAt = ContinuousClock.now
            try ServerControl.clustered("pg-promote")
            // Endpoints added on the promoted server are found by the scheduler through the same URL.
            #expect(await eventually(timeout: .seconds(30)) { (try? await cluster.seedEndpoints((count + 1)...(count + 5))) != nil })
            let allBack = try await cluster.waitUntilConnected(count + 5, timeout: FaultScenario.connectTimeout(count + 5))
            figures.allBackSeconds = allBack ? FaultScenario.seconds(ContinuousClock.now - stoppedAt) : nil
            figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: .zero)
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...(count + 5)).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.report()

            #expect(allBack && figures.neverBack == 0, "endpoints added after the promotion were not connected:\n\(cluster.logs)")
            #expect(figures.evictionsDuring == 0, "\(cluster.logs)")
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }
}

/// Whether the clustered test servers were started (`scripts/ha-services.sh start`, as scripts/test.sh does).
enum ClusteredServers {
    static var available: Bool {
        ProcessInfo.processInfo.environment["XZ_HA_SERVICES_SCRIPT"].map { !$0.isEmpty } ?? false
    }
}
