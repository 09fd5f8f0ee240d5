import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// `scheduler queues`: the depth of every queue of the topology, against a real broker.
@Suite struct OperationsQueuesTests {
    struct Counts: Equatable, CustomStringConvertible {
        var ready: Int?
        var unacked: Int?
        var consumers: Int?
        var description: String { "ready \(ready.map(String.init) ?? "-") unacked \(unacked.map(String.init) ?? "-") consumers \(consumers.map(String.init) ?? "-")" }
    }

    /// `rabbitmqctl list_queues name messages_ready messages_unacknowledged consumers`, for `names`.
    static func rabbitmqctlCounts(_ names: [String]) throws -> [String: Counts] {
        let output = try OperationsServers.services(["rabbitmqctl", "list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers"])
        var counts: [String: Counts] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
            guard fields.count == 4, names.contains(fields[0]), let ready = Int(fields[1]), let unacked = Int(fields[2]), let consumers = Int(fields[3]) else { continue }
            counts[fields[0]] = Counts(ready: ready, unacked: unacked, consumers: consumers)
        }
        return counts
    }

    @Test func queueDepthsEqualWhatRabbitmqctlReports() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("queues"))
        let topology = configuration.topology
        let declared = try await OperationsTopology.declare(topology, purpose: "queues")
        let holder = try await OperationsServers.amqp("ops-test-queues-holder")
        let inspecting = try await OperationsServers.amqp("ops-test-queues-inspect")
        do {
            let bus = JobBus(connection: declared.connection, topology: topology)
            _ = try await bus.publish(jobs: [operationsJob(), operationsJob(), operationsJob()])
            let held = try #require(try await holder.get(queue: topology.jobsQueue))
            for index in 0..<2 {
                let result = JobResult(jobId: "job-\(index)", endpointId: EndpointID("server-\(index)"), outcome: .recovered, instanceId: "worker-1", attempt: 1, durationMs: 5)
                try await bus.publish(result: result)
            }
            let consumer = try await holder.consume(queue: topology.resultsQueue)
            var iterator = consumer.makeAsyncIterator()
            for _ in 0..<2 { _ = try #require(await iterator.next()) }
            let firstDeath = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 600).rounded())
            try await declared.publishDead(operationsJob(), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401"), at: firstDeath)
            try await declared.publishDead(operationsJob(), reason: .exhausted, error: JobError(kind: .transient, message: "refused"), at: firstDeath.addingTimeInterval(60))

            let names = topology.queueNames
            let inspector = QueueInspector(
                connection: inspecting, topology: topology,
                management: try RabbitManagementAPI.resolve(amqpURL: try OperationsServers.variable("AMQP_URL")))
            // The management API samples its figures every few seconds: wait until they agree.
            var last = ""
            let report: QueueReport
            do {
                report = try await operationsPoll(within: 60) {
                    let report = try await inspector.inspect()
                    let ours = Dictionary(uniqueKeysWithValues: report.queues.map { ($0.name, Counts(ready: $0.ready, unacked: $0.unacknowledged, consumers: $0.consumers)) })
                    let theirs = try Self.rabbitmqctlCounts(names)
                    last = "ours \(ours) rabbitmqctl \(theirs)"
                    return theirs.count == names.count && ours == theirs ? report : nil
                }
            } catch {
                Issue.record("queue depths never matched rabbitmqctl: \(last)")
                throw error
            }
            let jobs = try #require(report.queues.first { $0.role == .jobs })
            // (A quorum queue counts the channel holding a `basic.get` delivery as a consumer: no check on that.)
            #expect(jobs.ready == 2 && jobs.unacknowledged == 1)
            let results = try #require(report.queues.first { $0.role == .results })
            #expect(Counts(ready: results.ready, unacked: results.unacknowledged, consumers: results.consumers) == Counts(ready: 0, unacked: 2, consumers: 1))
            let dead = try #require(report.queues.first { $0.role == .dead })
            #expect(dead.deadLettered == 2)
            #expect(dead.oldestAt == firstDeath)
            #expect(report.managementProblem == nil)
            #expect(report.queues.map(\.name) == names)
            _ = try? await holder.ack(held)
        } catch {
            await holder.close()
            await inspecting.close()
            await declared.tearDown()
            throw error
        }
        await holder.close()
        await inspecting.close()
        await declared.tearDown()
    }

    @Test func everyWorkersControlQueueIsListedWithItsWorker() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("control"))
        let topology = configuration.topology
        let declared = try await OperationsTopology.declare(topology, purpose: "control")
        let worker = try await OperationsServers.amqp("ops-test-control-worker")
        do {
            let queue = try await TopologyDeclarer.declareControlQueue(topology, instanceId: "host:42:abcd", on: worker)
            let inspector = QueueInspector(
                connection: declared.connection, topology: topology,
                management: try RabbitManagementAPI.resolve(amqpURL: try OperationsServers.variable("AMQP_URL")),
                readsOldestDeadLetter: false)
            let control = try await operationsPoll(within: 30) {
                // The management API has no figures for a queue declared a moment ago: wait for them.
                try await inspector.inspect().queues.first { $0.role == .control && $0.ready != nil }
            }
            #expect(control.name == queue)
            #expect(control.worker == "host:42:abcd")
            #expect(control.ready == 0)
            let report = try await inspector.inspect()
            #expect(report.table().contains(queue) && report.table().contains("control"))
            #expect(report.json().contains("\"worker\":\"host:42:abcd\""))
        } catch {
            await worker.close()
            await declared.tearDown()
            throw error
        }
        await worker.close()
        await declared.tearDown()
    }

    @Test func aStoppedNodesManagementAPIIsSkippedForTheNextOne() async throws {
        let amqp = try AMQPURL(parsing: try OperationsServers.variable("AMQP_URL"))
        let management = RabbitManagementAPI(
            baseURLs: ["http://127.0.0.1:9", try OperationsServers.variable(RabbitManagementAPI.urlVariable)],
            user: amqp.user, password: amqp.password, virtualHost: amqp.virtualHost)
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("nodes"))
        let declared = try await OperationsTopology.declare(configuration.topology, purpose: "nodes")
        do {
            // A queue declared a moment ago has no figures yet (its consumer count may come after its
            // message counts): wait for both.
            let counts = try await operationsPoll(within: 30) { () -> ManagementQueueCounts? in
                guard let counts = try? await management.queueCounts(configuration.topology.jobsQueue),
                      counts.ready != nil, counts.consumers != nil else { return nil }
                return counts
            }
            #expect(counts.ready == 0 && counts.consumers == 0)
        } catch {
            await declared.tearDown()
            throw error
        }
        await declared.tearDown()
    }

    @Test func unreachableManagementAPILeavesUnackedUnknownWithoutFailing() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("nomgmt"))
        let declared = try await OperationsTopology.declare(configuration.topology, purpose: "nomgmt")
        do {
            _ = try await JobBus(connection: declared.connection, topology: configuration.topology).publish(jobs: [operationsJob()])
            let management = RabbitManagementAPI(baseURL: "http://127.0.0.1:9", user: "xiaozhi", password: "management-secret", virtualHost: "/")
            let report = try await QueueInspector(connection: declared.connection, topology: configuration.topology, management: management).inspect()
            let problem = try #require(report.managementProblem)
            #expect(problem.contains("unreachable"))
            #expect(!problem.contains("management-secret"))
            #expect(report.queues.allSatisfy { $0.unacknowledged == nil })
            #expect(report.queues.first { $0.role == .jobs }?.ready == 1)
            #expect(report.table().contains("-"))
        } catch {
            await declared.tearDown()
            throw error
        }
        await declared.tearDown()
    }

    @Test func undeclaredQueuesAreReportedMissing() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("absent"))
        let connection = try await OperationsServers.amqp("ops-test-absent")
        let report = try await QueueInspector(connection: connection, topology: configuration.topology, management: nil).inspect()
        await connection.close()
        #expect(report.queues.count == configuration.topology.queueNames.count)
        #expect(report.queues.allSatisfy { !$0.exists && $0.ready == nil })
        #expect(report.table().contains("missing"))
    }
}
