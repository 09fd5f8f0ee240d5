import AMQPClient
import Foundation
import Logging
import PostgresClient
import RedisClient
import Synchronization
import Testing
@testable import Recovery

/// The probe server under hostile or slow clients, over real sockets: nothing one client does delays
/// `/healthz` for another, and a failing readiness check tells the client no host or user.
@Suite struct ProbeServerLimitsTests {
    private static let healthz: [String: ProbeServer.Route] = ["/healthz": { ProbeResponse(status: 200, text: "ok\n") }]

    @Test func aClientTricklingItsHeadDoesNotDelayHealthzForAnotherAndIsCutAtTheHeadDeadline() async throws {
        let server = ProbeServer(routes: Self.healthz, logger: Logger(label: "test"), limits: .init(headTimeout: .seconds(5)))
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let port = server.port
        let slow = try RawProbeClient(port: port)
        let cut = SharedValue(false)
        let started = Date()
        // One byte a second, never finishing the head, until the server closes the connection (or 30 s).
        let trickle = Task {
            await onOwnThread { () -> (closedByServer: Bool, bytes: Int, seconds: Double) in
                let bytes = Array("GET /healthz HTTP/1.1\r\nX-Slow: " + String(repeating: "a", count: 64))
                var sent = 0
                while Date().timeIntervalSince(started) < 30 {
                    if slow.isClosedByServer(wait: 1.0) || !slow.send(String(bytes[sent % bytes.count])) {
                        cut.set(true)
                        return (true, sent, Date().timeIntervalSince(started))
                    }
                    sent += 1
                }
                return (false, sent, Date().timeIntervalSince(started))
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        let asked = Date()
        let answer = await onOwnThread { RawProbeClient.get(port: port, path: "/healthz", wait: 10) }
        let answeredAfter = Date().timeIntervalSince(asked)
        let slowStillOpen = !cut.get()
        let slowClient = await trickle.value

        print("probe figures: /healthz answered in \(Int(answeredAfter * 1000)) ms while a client trickled its head; "
            + "that client was cut after \(String(format: "%.1f", slowClient.seconds)) s and \(slowClient.bytes) bytes")
        #expect(answer?.status == 200)
        #expect(answer?.body == "ok\n")
        #expect(slowStillOpen, "the trickling client was still connected when /healthz was answered")
        #expect(slowClient.closedByServer, "the server closes a head that does not complete within its deadline")
    }

    @Test func manyIdleConnectionsDoNotLockHealthzOut() async throws {
        let limits = ProbeServer.Limits(maxConnections: 64, headTimeout: .seconds(30))
        let server = ProbeServer(routes: Self.healthz, logger: Logger(label: "test"), limits: limits)
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let port = server.port
        let idle = try (0..<100).map { _ in try RawProbeClient(port: port) }

        let answer = await onOwnThread { RawProbeClient.get(port: port, path: "/healthz", wait: 10) }
        // Evicted connections are shut down at once; a moment lets the last of those closes arrive.
        try await Task.sleep(for: .milliseconds(300))
        let closedIdle = await onOwnThread { idle.filter { $0.isClosedByServer(wait: 0) }.count }

        print("probe figures: \(idle.count) idle connections, \(closedIdle) closed by the server, \(server.openConnections) open after /healthz")
        #expect(answer?.status == 200)
        #expect(idle.count - closedIdle <= limits.maxConnections, "no more idle connections stay open than the server's bound")
    }

    @Test func aSlowReadinessCheckDoesNotHoldUpHealthzAndRunsOnceForConcurrentProbers() async throws {
        let evaluations = SharedValue(0)
        let routes: [String: ProbeServer.Route] = [
            "/healthz": { ProbeResponse(status: 200, text: "ok\n") },
            "/readyz": {
                evaluations.update { $0 += 1 }
                try? await Task.sleep(for: .seconds(20))
                return ProbeResponse(status: 200, text: "ready\n")
            },
        ]
        let server = ProbeServer(routes: routes, logger: Logger(label: "test"), limits: .init(routeTimeout: .seconds(3)))
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let port = server.port
        let readyAnswered = SharedValue(false)
        let readiness = (0..<5).map { _ in
            Task {
                let answer = await onOwnThread { RawProbeClient.get(port: port, path: "/readyz", wait: 15) }
                readyAnswered.set(true)
                return answer
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let asked = Date()
        let health = await onOwnThread { RawProbeClient.get(port: port, path: "/healthz", wait: 10) }
        let healthMilliseconds = Int(Date().timeIntervalSince(asked) * 1000)
        let readyBeforeHealth = readyAnswered.get()
        var ready: [(status: Int, body: String)?] = []
        for task in readiness { ready.append(await task.value) }

        print("probe figures: /healthz answered in \(healthMilliseconds) ms while 5 /readyz waited on a 20 s check; "
            + "the check ran \(evaluations.get()) time(s)")
        #expect(health?.status == 200)
        #expect(!readyBeforeHealth, "the readiness requests were still waiting when /healthz was answered")
        #expect(ready.allSatisfy { $0?.status == 503 && $0?.body == "no answer in time\n" })
        #expect(evaluations.get() == 1)
    }

    @Test func aFailingReadinessCheckNamesNoHostOrUserToTheClientButLogsThem() async throws {
        let sink = LogSink.capturing()
        let logger = Logger(label: "probe") { PoolLogHandler(label: $0, format: .text, level: .info, sink: sink) }
        // Redis and Postgres on a port where nothing listens, as users whose names must not reach the client.
        let redis = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1, username: "readiness-redis-user", password: "redis-secret", connectTimeout: .seconds(2), commandTimeout: .seconds(2)))
        let postgres = PostgresClient(configuration: PostgresConfiguration(host: "127.0.0.1", port: 1, user: "readiness-pg-user", password: "pg-secret", database: "nothing", connectTimeout: .seconds(2)))
        var amqpConfiguration = try AMQPConfiguration(urlString: requiredEnvironment("AMQP_URL"), connectionName: "probe-readiness", heartbeatSeconds: 10)
        amqpConfiguration.operationTimeout = .seconds(10)
        let amqp = try await AMQPConnection.connect(configuration: amqpConfiguration)
        let routes = ProbeRoutes.make(
            metrics: PoolMetrics(), redis: redis, postgres: postgres, amqp: amqp, queue: "probe-missing-" + UUID().uuidString.lowercased())
        let server = ProbeServer(routes: routes, logger: logger, limits: .init(routeTimeout: .seconds(15)))
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let port = server.port

        let answer = await onOwnThread { RawProbeClient.get(port: port, path: "/readyz", wait: 20) }
        await amqp.close()
        let logged = sink.lines.joined()

        print("probe figures: /readyz answered \(answer.map { "\($0.status) \($0.body.debugDescription)" } ?? "nothing")")
        let body = try #require(answer?.body)
        #expect(answer?.status == 503)
        #expect(body == "not ready: redis, postgres, rabbitmq\n")
        for hidden in ["127.0.0.1", "readiness-redis-user", "readiness-pg-user", "redis-secret", "pg-secret", "://"] {
            #expect(!body.contains(hidden), "the body names \(hidden)")
        }
        // The operator still learns why: the log line names the failing servers (and no secret).
        #expect(logged.contains("probe /readyz fails"))
        #expect(logged.contains("127.0.0.1"))
        #expect(!logged.contains("redis-secret") && !logged.contains("pg-secret"))
    }
}

/// A value the test and its client threads share.
private final class SharedValue<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    func get() -> Value { state.withLock { $0 } }
    func set(_ value: Value) { state.withLock { $0 = value } }
    func update(_ change: (inout Value) -> Void) { state.withLock { change(&$0) } }
}
