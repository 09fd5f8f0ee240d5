import AMQPClient
import ClientSupport
import Foundation
import PostgresClient
import RecoveryCore
import RedisClient
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Recovery

/// A whole pool for an end-to-end test: a simulator, a scheduler and workers as processes, on the test
/// servers, in a namespace of its own (a Redis database, a table prefix, a queue prefix), so that several
/// clusters never see each other.
final class PoolCluster: @unchecked Sendable {
    let namespace: String
    let redisDatabase: Int
    let environment: [String: String]
    let configuration: PoolConfiguration
    let redis: RedisClient
    let postgres: PostgresClient
    let amqp: AMQPConnection
    let schema: EndpointSchema
    let store: RedisPoolState
    private(set) var simulator: PoolProcess?
    private(set) var simulatorPort = 0
    private(set) var statusPort = 0
    private(set) var scheduler: PoolProcess?
    private(set) var workers: [PoolProcess] = []

    private static let databases = DatabaseAllocator()

    /// Settings that make a test cluster react in seconds instead of the production defaults.
    static let fastSettings: [String: String] = [
        "ConnectionMonitor__CheckIntervalSeconds": "2",
        "ConnectionMonitor__HeartbeatTimeoutSeconds": "20",
        "ConnectionMonitor__ReconnectCooldownSeconds": "1",
        "Recovery__LeaseTtlSeconds": "4",
        "Recovery__HeartbeatIntervalSeconds": "2",
        "Recovery__ShutdownGraceSeconds": "10",
        "Recovery__ParkSeconds": "600",
        "Retry__DelaysSeconds": "1,2,3",
        "Retry__MaxAttempts": "4",
        "Worker__ConnectTimeoutSeconds": "5",
        "Metrics__Port": "0",
        "Log__Format": "text",
    ]

    /// Which test servers a cluster runs on.
    enum Servers {
        /// `scripts/services.sh`: one Postgres, one Redis, one RabbitMQ node.
        case single
        /// `scripts/ha-services.sh`: a primary and a standby, Redis behind three sentinels, three RabbitMQ nodes.
        case clustered
    }

    init(settings: [String: String] = [:], servers: Servers = .single) async throws {
        let id = UUID().uuidString.prefix(8).lowercased()
        namespace = "e2e\(id)"
        redisDatabase = try Self.databases.take()
        let prefix = servers == .clustered ? "HA_" : ""
        let baseRedis = try requiredEnvironment(prefix + "REDIS_URL")
        let redisURL = Self.redisURL(baseRedis, database: redisDatabase)
        var environment = Self.fastSettings.merging(settings) { _, new in new }
        environment["DATABASE_URL"] = try requiredEnvironment(prefix + "DATABASE_URL")
        environment["AMQP_URL"] = try requiredEnvironment(prefix + "AMQP_URL")
        environment["REDIS_URL"] = redisURL
        var redisConfiguration = try RedisConfiguration(url: redisURL)
        if servers == .clustered {
            environment["Redis__Sentinels"] = try requiredEnvironment("HA_REDIS_SENTINELS")
            environment["Redis__MasterName"] = try requiredEnvironment("HA_REDIS_MASTER_NAME")
            environment["Redis__SentinelPassword"] = try requiredEnvironment("HA_REDIS_SENTINEL_PASSWORD")
            redisConfiguration.sentinel = RedisSentinel(
                servers: try ServerAddress.parseList(Substring(environment["Redis__Sentinels"]!), defaultPort: 26379),
                masterName: environment["Redis__MasterName"]!, password: environment["Redis__SentinelPassword"])
        }
        environment["Database__TablePrefix"] = "\(namespace)_"
        environment["Queue__Prefix"] = "e2e.\(id)"
        self.environment = environment
        configuration = try ConfigurationLoader.load(fileContents: nil, environment: environment, overrides: [])
        redis = try await RedisClient.connect(configuration: redisConfiguration)
        _ = try await redis.send("FLUSHDB")
        postgres = try await PostgresClient.connect(url: environment["DATABASE_URL"]!)
        amqp = try await AMQPConnection.connect(url: environment["AMQP_URL"]!, connectionName: "e2e-\(id)")
        schema = try EndpointSchema(prefix: "\(namespace)_")
        store = RedisPoolState(redis: redis)
        try await PostgresEndpointDirectory(client: postgres, schema: schema).migrate()
    }

    static func redisURL(_ base: String, database: Int) -> String {
        guard var components = URLComponents(string: base) else { return base }
        components.path = "/\(database)"
        return components.string ?? base
    }

    // MARK: processes

    /// Starts `xiaozhi-sim` on free ports and waits for its ports line.
    func startSimulator(arguments: [String] = []) async throws {
        let process = try PoolProcess(
            product: "xiaozhi-sim", arguments: ["--port", "\(simulatorPort)", "--status-port", "\(statusPort)", "--ping-interval", "5"] + arguments,
            environment: [:], name: "\(namespace)-sim")
        simulator = process
        let listening = await eventually(timeout: .seconds(15)) { process.log.contains("listening on ws://") }
        guard listening else { throw HarnessError("xiaozhi-sim did not start:\n\(process.log)") }
        let line = process.log.split(separator: "\n").first { $0.contains("listening on ws://") } ?? ""
        simulatorPort = Self.port(in: String(line), after: "ws://127.0.0.1:") ?? 0
        statusPort = Self.port(in: String(line), after: "http://127.0.0.1:") ?? 0
        guard simulatorPort > 0, statusPort > 0 else { throw HarnessError("cannot read the simulator's ports from: \(line)") }
    }

    /// Restarts the simulator on the same ports (its counters start again).
    func restartSimulator() async throws {
        await simulator?.stop()
        try await startSimulator()
    }

    static func port(in line: String, after marker: String) -> Int? {
        guard let range = line.range(of: marker) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    func startScheduler() throws {
        scheduler = try PoolProcess(product: "scheduler", arguments: ["run"], environment: environment, name: "\(namespace)-scheduler")
    }

    /// Starts a worker; `overrides` replace entries of the cluster's environment (a `REDIS_URL` through
    /// a fault proxy, say); `output` takes its log instead of the log file.
    @discardableResult
    func startWorker(maxSessions: Int = 500, overrides: [String: String] = [:], launcher: [String] = [], output: FileHandle? = nil) throws -> PoolProcess {
        let worker = try PoolProcess(
            product: "worker", arguments: ["run", "--max-sessions", "\(maxSessions)"],
            environment: environment.merging(overrides) { _, new in new }, name: "\(namespace)-worker\(workers.count + 1)",
            launcher: launcher, output: output)
        workers.append(worker)
        return worker
    }

    /// Runs a `scheduler` subcommand to completion; its exit status and output.
    func schedulerCommand(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try PoolProcess(product: "scheduler", arguments: arguments, environment: environment, name: "\(namespace)-cmd")
        guard let status = await process.waitForExit(timeout: .seconds(60)) else {
            process.send(SIGKILL)
            throw HarnessError("scheduler \(arguments.joined(separator: " ")) did not finish")
        }
        return (status, process.log)
    }

    // MARK: endpoints

    /// The address of endpoint `index` on the simulator.
    func address(token: String) -> String { "ws://127.0.0.1:\(simulatorPort)/mcp/?token=\(token)" }

    static func endpointId(_ index: Int) -> EndpointID { EndpointID(String(format: "00000000-0000-4000-8000-%012x", index)) }

    /// Inserts `count` enabled endpoints served by the simulator (ids from `endpointId(1)`).
    func seedEndpoints(_ count: Int, tokenPrefix: String = "token") async throws {
        try await seedEndpoints(1...count, tokenPrefix: tokenPrefix)
    }

    /// Inserts the enabled endpoints numbered `indices`, served by the simulator.
    func seedEndpoints(_ indices: ClosedRange<Int>, tokenPrefix: String = "token") async throws {
        try await postgres.transaction { [schema, simulatorPort] tx in
            for index in indices {
                _ = try tx.execute(
                    "INSERT INTO \(schema.endpoints) (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\", \"IsConnected\", \"CreatedAt\", \"UpdatedAt\") VALUES ($1, $2, $3, 'e2e-user', true, false, now(), now())",
                    [.text(Self.endpointId(index).rawValue), .text("endpoint-\(index)"), .text("ws://127.0.0.1:\(simulatorPort)/mcp/?token=\(tokenPrefix)-\(index)")])
            }
        }
    }

    func setEnabled(_ indices: [Int], _ enabled: Bool) async throws {
        for index in indices {
            _ = try await postgres.execute(
                "UPDATE \(schema.endpoints) SET \"IsEnabled\" = $2, \"UpdatedAt\" = now() WHERE \"Id\" = $1",
                [.text(Self.endpointId(index).rawValue), .bool(enabled)])
        }
    }

    func setAddress(_ index: Int, token: String) async throws {
        _ = try await postgres.execute(
            "UPDATE \(schema.endpoints) SET \"Address\" = $2, \"UpdatedAt\" = now() WHERE \"Id\" = $1",
            [.text(Self.endpointId(index).rawValue), .text(address(token: token))])
    }

    // MARK: observing

    /// The simulator's `/status`.
    func simulatorStatus() async throws -> SimulatorStatusView {
        try await http("GET", "/status", as: SimulatorStatusView.self)
    }

    /// Sets the simulator's fault switches (`refuseNew`, `httpStatus`, `handshakeDelayMilliseconds`).
    func setFaults(_ json: String) async throws {
        _ = try await httpRaw("POST", "/faults", body: json)
    }

    func http<T: Decodable>(_ method: String, _ path: String, body: String? = nil, as type: T.Type) async throws -> T {
        try JSONDecoder().decode(T.self, from: try await httpRaw(method, path, body: body))
    }

    func httpRaw(_ method: String, _ path: String, body: String? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(statusPort)\(path)")!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        request.timeoutInterval = 20
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            throw HarnessError("simulator \(method) \(path) answered \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    /// Ids whose `mcp:connection:{id}` holds a connected state.
    func connectedStates() async throws -> [EndpointID: ConnectionState] {
        let members = try await redis.send("SMEMBERS", RedisKeys.connectionIndex).array?.compactMap(\.endpointID) ?? []
        var states: [EndpointID: ConnectionState] = [:]
        for id in members {
            if case .decoded(let state, _) = try await store.states.read(endpointId: id), state.status == .connected {
                states[id] = state
            }
        }
        return states
    }

    /// Waits until the simulator holds exactly `count` sessions and Redis has `count` connected states.
    /// A failed read (a server restarting) counts as "not yet".
    func waitUntilConnected(_ count: Int, timeout: Duration) async throws -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(500)) {
            guard let status = try? await simulatorStatus(), status.connectedCount == count else { return false }
            return (try? await connectedStates().count) == count
        }
    }

    /// This cluster's `REDIS_URL` with its host and port replaced (a fault proxy in front of Redis).
    func redisURL(throughPort port: Int) -> String {
        guard var components = URLComponents(string: environment["REDIS_URL"] ?? "") else { return "" }
        components.host = "127.0.0.1"
        components.port = port
        return components.string ?? ""
    }

    /// The host and port of the cluster's Redis.
    var redisAddress: (host: String, port: Int) {
        let components = URLComponents(string: environment["REDIS_URL"] ?? "")
        return (components?.host ?? "127.0.0.1", components?.port ?? 6379)
    }

    /// Every process's log, for a failing test.
    var logs: String {
        ([simulator, scheduler].compactMap { $0 } + workers).map { "==== \($0.name)\n\($0.log.suffix(6000))" }.joined(separator: "\n")
    }

    // MARK: teardown

    func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for process in workers + [scheduler].compactMap({ $0 }) {
                group.addTask { await process.stop(grace: .seconds(15)) }
            }
        }
        await simulator?.stop()
        for table in [schema.tools, schema.bindings, schema.serviceConfigs, schema.endpoints] {
            _ = try? await postgres.execute("DROP TABLE IF EXISTS \(table)")
        }
        _ = try? await redis.send("FLUSHDB")
        let topology = configuration.topology
        for queue in topology.queueNames { _ = try? await amqp.deleteQueue(queue) }
        for exchange in topology.exchanges { try? await amqp.deleteExchange(exchange.name) }
        await amqp.close()
        await postgres.close()
        await redis.close()
        Self.databases.give(redisDatabase)
    }
}

/// What the tests read of the simulator's `/status`.
struct SimulatorStatusView: Decodable {
    var connectedCount: Int
    var connectedTokenIds: [String]
    var connects: Int
    var evictions: Int
    var handshakeFailures: Int
    var rejectedTokens: Int
}

/// Hands out Redis databases 1-15 to clusters running at once.
final class DatabaseAllocator: @unchecked Sendable {
    private let lock = NSLock()
    private var free = Array(1...15)

    func take() throws -> Int {
        try lock.withLock {
            guard !free.isEmpty else { throw HarnessError("more than 15 clusters at once") }
            return free.removeFirst()
        }
    }

    func give(_ database: Int) {
        lock.withLock { free.append(database) }
    }
}
