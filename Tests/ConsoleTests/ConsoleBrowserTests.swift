import AMQPClient
import Console
import Foundation
import Logging
import PostgresClient
import Recovery
import RecoveryCore
import RedisClient
import Testing

/// The console in a real headless browser (Debian's chromium and chromium-driver, driven by
/// python3-selenium) over the real servers of `scripts/services.sh`: every page renders seeded data with
/// no console error, a dead letter retried from the page is back in the jobs queue, a cross-site form post
/// is refused. Screenshots of each page go to `.build/test-artifacts/console/`.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let adminToken = "browser-admin-" + UUID().uuidString.lowercased()
    static let viewerToken = "browser-viewer-" + UUID().uuidString.lowercased()
    static let endpointSecret = "eyJhbGciOiJIUzI1NiJ9.browser-endpoint-secret"

    @Test func everyPageRendersAndARetryFromThePageQueuesTheJob() async throws {
        let environment = ProcessInfo.processInfo.environment
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw BrowserTestFailure("\(name) is not set: run `eval \"$(scripts/services.sh start)\"` first")
            }
            return value
        }
        let tag = UUID().uuidString.prefix(8).lowercased()
        let configuration = try ConfigurationLoader.load(
            fileContents: nil,
            environment: ["AMQP_URL": try required("AMQP_URL"), "REDIS_URL": try required("REDIS_URL"), "DATABASE_URL": try required("DATABASE_URL")],
            overrides: [
                "Queue:Prefix=test.console.\(tag)", "Database:TablePrefix=t_console_\(tag)_",
                "Console:Port=1", "Console:AdminToken=\(Self.adminToken)", "Console:ViewerToken=\(Self.viewerToken)",
            ])
        let ids = (
            connected: EndpointID("console-ok-\(tag)"), missing: EndpointID("console-missing-\(tag)"),
            dead: EndpointID("console-dead-\(tag)"), off: EndpointID("console-off-\(tag)"))
        let schema = try EndpointSchema(prefix: configuration.tablePrefix)
        let postgres = try await PostgresClient.connect(url: try required("DATABASE_URL"))
        let redis = try await RedisClient.connect(url: try required("REDIS_URL"))
        let store = RedisPoolState(redis: redis)
        let directory = PostgresEndpointDirectory(client: postgres, schema: schema)
        let admin = try await AMQPConnection.connect(configuration: AMQPConfiguration(urlString: try required("AMQP_URL"), connectionName: "console-test"))
        let topology = configuration.topology
        let workerId = "console-worker-\(tag)"
        func cleanUp() async {
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(schema.tools), \(schema.bindings), \(schema.serviceConfigs), \(schema.endpoints)")
            let keys: [any RedisArgumentConvertible] = [ids.connected, ids.missing, ids.dead, ids.off].flatMap {
                [RedisKeys.connectionState($0), RedisKeys.recentResults($0), RedisKeys.pending($0)]
            }
            _ = try? await redis.delete(keys)
            _ = try? await store.markers.unpark(endpointIds: [ids.dead, ids.missing])
            try? await store.workers.remove(instanceId: workerId)
            for name in topology.queueNames { _ = try? await admin.deleteQueue(name) }
            for exchange in topology.exchanges { try? await admin.deleteExchange(exchange.name) }
            await admin.close()
            await redis.close()
            await postgres.close()
        }

        do {
            // Postgres: four endpoints (one disabled), a tool bound to the connected one.
            try await directory.migrate()
            for (id, name, enabled) in [(ids.connected, "kitchen-\(tag)", true), (ids.missing, "garage-\(tag)", true), (ids.dead, "attic-\(tag)", true), (ids.off, "old-\(tag)", false)] {
                _ = try await postgres.execute(
                    "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\") VALUES ($1, $2, $3, 'u1', $4)",
                    [.text(id.rawValue), .text(name), .text("wss://api.xiaozhi.me/mcp/?token=\(Self.endpointSecret)"), .bool(enabled)])
            }
            _ = try await postgres.execute(
                "INSERT INTO \(schema.serviceConfigs) (\"Id\", \"Name\", \"Endpoint\", \"UserId\", \"Protocol\", \"AuthenticationType\", \"AuthenticationConfig\") VALUES ('cfg', 'weather-service', 'http://127.0.0.1:9/mcp', 'u1', 'streamable-http', 'bearer', $1)",
                [.text("{\"token\":\"\(Self.endpointSecret)\"}")])
            _ = try await postgres.execute(
                "INSERT INTO \(schema.bindings) (\"Id\", \"XiaozhiMcpEndpointId\", \"McpServiceConfigId\", \"UserId\", \"IsActive\", \"SelectedToolNames\") VALUES ('b1', $1, 'cfg', 'u1', true, '[\"weather\"]')",
                [.text(ids.connected.rawValue)])
            _ = try await postgres.execute(
                "INSERT INTO \(schema.tools) (\"Id\", \"Name\", \"McpServiceConfigId\", \"UserId\", \"Description\", \"InputSchema\") VALUES ('t1', 'weather', 'cfg', 'u1', 'today''s weather', '{\"type\":\"object\"}')")

            // Redis: one live session, one park, results, a worker, a cycle.
            let now = Date()
            let state = ConnectionState(
                endpointId: ids.connected, instanceId: workerId, status: .connected, lastConnectedTime: now, lastHeartbeat: now,
                endpointName: "kitchen-\(tag)", webSocketEndpoint: "wss://api.xiaozhi.me/mcp/?token=\(Self.endpointSecret)", owner: nil)
            try await redis.set(RedisKeys.connectionState(ids.connected), state.encoded())
            try await store.markers.park(ParkedEndpoint(endpointId: ids.dead, reason: "HTTP 401 at the handshake", kind: .permanent, parkedAt: now))
            try await ResultHistory(redis: redis).record([
                (JobResult(jobId: "j1-\(tag)", endpointId: ids.connected, outcome: .recovered, instanceId: workerId, attempt: 1, durationMs: 40), now),
                (JobResult(jobId: "j2-\(tag)", endpointId: ids.dead, outcome: .dead, instanceId: workerId, attempt: 1, durationMs: 12,
                           error: JobError(kind: .permanent, message: "HTTP 401 at the handshake")), now),
            ])
            try await store.workers.record(
                WorkerRecord(instanceId: workerId, host: "console-host", pid: 4242, startedAt: now, heartbeatAt: now, sessions: 1, capacity: 5000), ttl: .seconds(120))
            try await store.operatorView.recordLastCycle(CycleSummary(at: now, milliseconds: 7, counts: ["pending": 0], capacity: nil))

            // RabbitMQ: the topology and two dead letters.
            try await TopologyDeclarer.declare(topology, on: admin)
            let bus = JobBus(connection: admin, topology: topology)
            for id in [ids.dead, ids.missing] {
                let job = RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: id, reason: .missing, attempt: 6, enqueuedAt: now)
                try await bus.publishDead(body: Array(job.encoded()), messageId: job.jobId, endpointId: id, reason: .exhausted,
                                          error: JobError(kind: .transient, message: "connection refused"), attempt: 6, at: now)
            }

            // The console, in process, on a free port.
            let logger = Logger(label: "console-browser-test", factory: { _ in SwiftLogNoOpLogHandler() })
            let connections = PoolConnections(configuration: configuration, logger: logger, waitForServers: false)
            let consoleHolder = try await connections.amqp(name: "console-test-holder")
            let consolePublisher = try await connections.amqp(name: "console-test-publisher")
            let data = LiveConsoleData(
                configuration: configuration, directory: directory, redis: redis, holder: consoleHolder, publisher: consolePublisher)
            let app = ConsoleApp(data: data, tokens: ConsoleTokens(admin: Self.adminToken, viewer: Self.viewerToken), logger: logger)
            let console = try ConsoleServer(host: "127.0.0.1", port: 0, app: app, logger: logger, overviewInterval: .seconds(1), queuesInterval: .seconds(2))
            let sampler = Task { await console.sample() }
            defer { sampler.cancel() }

            let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/test-artifacts/console").standardized
            try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            let plan: [String: Any] = [
                "url": "http://127.0.0.1:\(console.port)", "adminToken": Self.adminToken, "viewerToken": Self.viewerToken,
                "secrets": [Self.adminToken, Self.viewerToken, Self.endpointSecret], "screenshots": artifacts.path,
                "enabled": 3, "connected": 1, "endpointRows": 4, "missingRows": 1, "searchName": "garage-\(tag)",
                "toolEndpoint": ids.connected.rawValue, "toolName": "weather", "worker": workerId, "jobsQueue": topology.jobsQueue,
                "deadRows": 2, "retryServer": ids.dead.rawValue,
            ]
            let planFile = FileManager.default.temporaryDirectory.appendingPathComponent("console-plan-\(tag).json")
            try JSONSerialization.data(withJSONObject: plan).write(to: planFile, options: .atomic)
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: planFile.path)
            defer { try? FileManager.default.removeItem(at: planFile) }

            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/console_browser.py")
            let (status, output) = try await Self.run("/usr/bin/python3", [script.path, planFile.path], timeout: .seconds(240))
            sampler.cancel()
            await consoleHolder.close()
            await consolePublisher.close()
            for secret in [Self.adminToken, Self.viewerToken, Self.endpointSecret] {
                #expect(!output.contains(secret), "the browser script printed a secret")
            }
            let report = try #require(
                output.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] },
                "the browser script printed no report (exit \(status)): \(output.suffix(2000))")
            #expect(report["failure"] is NSNull, "\(report["failure"] ?? "")")
            #expect((report["consoleErrors"] as? [Any])?.isEmpty == true, "browser console errors: \(report["consoleErrors"] ?? "")")
            #expect(status == 0)
            #expect(((report["passed"] as? [String]) ?? []).count >= 25, "checks passed: \(report["passed"] ?? "")")

            // The retried letter's job is in the jobs queue, the other letter still dead (the cross-site purge was refused).
            var queued: [EndpointID] = []
            while let delivery = try await admin.get(queue: topology.jobsQueue) {
                if let job = try? RecoveryJob.decode(Data(delivery.body)) { queued.append(job.endpointId) }
                try await admin.ack(delivery)
            }
            #expect(queued == [ids.dead])
            #expect(try await admin.inspectQueue(topology.deadQueue).messageCount == 1, "the cross-site purge must have changed nothing")
            #expect(try await store.markers.parkedEndpoints()[ids.dead] == nil, "a retry unparks the endpoint")
            for name in ["signin", "overview", "overview-dark", "endpoints", "endpoints-phone", "endpoint", "workers", "queues", "dead", "dead-viewer"] {
                #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(name + ".png").path), "screenshot \(name)")
            }
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// Runs a program to its end (or kills it at `timeout`); its exit status and standard output.
    static func run(_ path: String, _ arguments: [String], timeout: Duration) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let killer = Task {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct BrowserTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
