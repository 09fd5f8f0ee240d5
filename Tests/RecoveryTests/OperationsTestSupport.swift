import AMQPClient
import Foundation
import PostgresClient
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// A failed precondition of an operations test, with what to do about it.
struct OperationsTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The private test servers of `scripts/services.sh start`, and a topology of its own for each test.
enum OperationsServers {
    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw OperationsTestFailure("\(name) is not set: run `eval \"$(scripts/services.sh start)\"` first")
        }
        return value
    }

    /// A `Queue:Prefix` no other test uses.
    static func uniquePrefix(_ purpose: String) -> String {
        "test.ops.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A configuration over the test servers with its own queue prefix (and table prefix).
    static func configuration(prefix: String, tablePrefix: String = "verdure_", extra: [String] = []) throws -> PoolConfiguration {
        let environment = [
            "AMQP_URL": try variable("AMQP_URL"), "REDIS_URL": try variable("REDIS_URL"), "DATABASE_URL": try variable("DATABASE_URL"),
        ]
        return try ConfigurationLoader.load(
            fileContents: nil, environment: environment,
            overrides: ["Queue:Prefix=\(prefix)", "Database:TablePrefix=\(tablePrefix)"] + extra)
    }

    static func amqp(_ name: String) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(urlString: variable("AMQP_URL"), connectionName: name, heartbeatSeconds: 10)
        configuration.operationTimeout = .seconds(20)
        return try await AMQPConnection.connect(configuration: configuration)
    }

    static func redis() async throws -> RedisClient {
        try await RedisClient.connect(url: variable("REDIS_URL"))
    }

    static func postgres() async throws -> PostgresClient {
        try await PostgresClient.connect(url: variable("DATABASE_URL"))
    }

    /// Runs `scripts/services.sh ARGS` on the private servers (`XZ_SERVICES_SCRIPT`); its standard output.
    static func services(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try variable("XZ_SERVICES_SCRIPT"))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OperationsTestFailure("services.sh \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A declared topology under a unique prefix, deleted by `tearDown`.
struct OperationsTopology {
    let topology: Topology
    let connection: AMQPConnection

    static func declare(_ topology: Topology, purpose: String) async throws -> OperationsTopology {
        let connection = try await OperationsServers.amqp("ops-test-\(purpose)")
        try await TopologyDeclarer.declare(topology, on: connection)
        return OperationsTopology(topology: topology, connection: connection)
    }

    func tearDown() async {
        for name in topology.queueNames { _ = try? await connection.deleteQueue(name) }
        for exchange in topology.exchanges { try? await connection.deleteExchange(exchange.name) }
        await connection.close()
    }

    /// Publishes a dead letter as a worker does.
    func publishDead(_ job: RecoveryJob, reason: DeadLetterReason, error: JobError?, at date: Date) async throws {
        try await JobBus(connection: connection, topology: topology).publishDead(
            body: Array(job.encoded()), messageId: job.jobId, endpointId: job.endpointId, reason: reason, error: error,
            attempt: job.attempt, at: date)
    }

    /// Every message of `queue`, acked (the queue is empty afterwards).
    func drain(_ queue: String) async throws -> [AMQPDelivery] {
        var deliveries: [AMQPDelivery] = []
        while let delivery = try await connection.get(queue: queue) {
            deliveries.append(delivery)
            try await connection.ack(delivery)
        }
        return deliveries
    }

    /// Ready messages of `queue`.
    func ready(_ queue: String) async throws -> Int {
        Int(try await connection.inspectQueue(queue).messageCount)
    }
}

/// A job for an endpoint id no other test uses.
func operationsJob(_ endpointId: EndpointID = EndpointID(UUID().uuidString.lowercased()), reason: RecoveryReason = .missing, attempt: Int = 1) -> RecoveryJob {
    RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: endpointId, reason: reason, attempt: attempt, enqueuedAt: Date())
}

/// Polls `check` every half second until it returns a value, for at most `seconds` (then the last failure).
func operationsPoll<T>(within seconds: Int = 60, _ check: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        if let value = try await check() { return value }
        if ContinuousClock.now >= deadline { throw OperationsTestFailure("condition not met within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(500))
    }
}
