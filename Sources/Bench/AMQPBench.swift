import AMQPClient
import ArgumentParser
import Foundation
import Logging

/// `bench amqp-publish`: confirmed publishes per second of persistent messages into a quorum queue, by
/// this project's client and, in the same run, by the Python `pika` client.
struct AMQPPublishBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp-publish",
        abstract: "Confirmed publishes/s of persistent messages into a quorum queue, versus pika.")

    @Option(help: "Messages the Swift client publishes.")
    var messages = 50_000

    @Option(help: "Message body size in bytes.")
    var size = 1024

    @Option(help: "Messages per publish batch (one call, pipelined, per-message outcomes).")
    var batch = 500

    @Option(help: "Batches in flight at once.")
    var concurrency = 4

    @Option(help: "Messages pika publishes in blocking mode (one confirm round trip each).")
    var pikaMessages = 3_000

    @Option(help: "Messages pika publishes in pipelined mode (SelectConnection, windowed confirms).")
    var pikaPipelinedMessages = 30_000

    @Flag(help: "Skip the pika peer.")
    var skipPika = false

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["AMQP_URL"], !url.isEmpty else {
            throw ValidationError("AMQP_URL is not set (eval \"$(scripts/services.sh start)\")")
        }
        var logger = Logger(label: "bench.amqp")
        logger.logLevel = .warning
        let connection = try await AMQPConnection.connect(url: url, connectionName: "bench-amqp-publish", logger: logger)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)

        let swiftQueue = "bench.amqp-publish.swift.\(UUID().uuidString.prefix(8))"
        try await connection.declare(QueueDeclaration.quorum(name: swiftQueue))
        // Warm-up: one batch, not measured.
        _ = try await connection.publish((0..<batch).map { _ in OutboundMessage(routingKey: swiftQueue, body: body) })
        try await connection.purgeQueue(swiftQueue)

        let clock = ContinuousClock()
        let total = messages
        let batchSize = batch
        let start = clock.now
        let confirmed = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done = 0
                    var next = worker * batchSize
                    while next < total {
                        let count = min(batchSize, total - next)
                        let outcomes = try await connection.publish(
                            (0..<count).map { _ in
                                OutboundMessage(routingKey: swiftQueue, body: body, properties: .persistent(contentType: "application/octet-stream"))
                            })
                        done += outcomes.filter(\.isConfirmed).count
                        next += batchSize * concurrency
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        let swiftRate = Double(total) / seconds(elapsed)
        print(String(format: "swift AMQPClient: %d x %d B persistent, confirmed %d, %.2f s, %.0f msg/s (batch %d, %d in flight)",
                     total, size, confirmed, seconds(elapsed), swiftRate, batch, concurrency))
        try await connection.deleteQueue(swiftQueue)

        if !skipPika {
            for (mode, count) in [("blocking", pikaMessages), ("pipelined", pikaPipelinedMessages)] {
                let queue = "bench.amqp-publish.pika-\(mode).\(UUID().uuidString.prefix(8))"
                try await connection.declare(QueueDeclaration.quorum(name: queue))
                let result = try runPika(url: url, queue: queue, mode: mode, messages: count)
                try await connection.deleteQueue(queue)
                print(String(format: "pika %@: %d x %d B persistent, confirmed %d, %.2f s, %.0f msg/s  (swift is %.1fx)",
                             mode, result.messages, size, result.confirmed, result.seconds, result.rate, swiftRate / result.rate))
            }
        }
        await connection.close()
    }

    private struct PikaResult: Decodable {
        var messages: Int
        var seconds: Double
        var rate: Double
        var confirmed: Int
    }

    private func runPika(url: String, queue: String, mode: String, messages: Int) throws -> PikaResult {
        // Sources/Bench/AMQPBench.swift -> scripts/bench/pika_publish.py
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench/pika_publish.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--url", url, "--queue", queue, "--messages", "\(messages)",
                             "--size", "\(size)", "--mode", mode]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("pika peer (\(mode)) exited \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(PikaResult.self, from: data)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
