import AMQPClient
import ArgumentParser
import Foundation
import Logging
import Synchronization

/// `bench amqp-failover`: confirmed publishing into a quorum queue while the node the connection uses
/// is stopped: the rate before and after, the gap without confirms, what was reported unconfirmed, and
/// whether every confirmed message is in the queue afterwards.
struct AMQPFailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp-failover",
        abstract: "Confirmed publishes/s through a broker node stop (AMQP_URL lists the cluster's nodes, the first is stopped).")

    @Option(help: "Shell command that stops the first node of AMQP_URL.")
    var stop = "scripts/ha-services.sh rabbit-stop-app 1"

    @Option(help: "Shell command that starts it again (run after the measurement).")
    var start = "scripts/ha-services.sh rabbit-start-app 1"

    @Option(help: "Seconds of publishing before the stop.")
    var before = 5

    @Option(help: "Seconds of publishing after the stop.")
    var after = 10

    @Option(help: "Messages per publish batch.")
    var batch = 200

    @Option(help: "Batches in flight at once.")
    var concurrency = 2

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["AMQP_URL"], !url.isEmpty else {
            throw ValidationError("AMQP_URL is not set (eval \"$(scripts/ha-services.sh start)\"; AMQP_URL=$HA_AMQP_URL)")
        }
        var logger = Logger(label: "bench.amqp-failover")
        logger.logLevel = .warning
        let connection = try await AMQPConnection.connect(url: url, connectionName: "bench-amqp-failover", logger: logger)
        let queue = "bench.amqp-failover.\(UUID().uuidString.prefix(8))"
        try await connection.declare(QueueDeclaration.quorum(name: queue))

        let tally = TallyBox()
        let clock = ContinuousClock()
        let begin = clock.now
        let stopAt = begin + .seconds(before)
        let end = stopAt + .seconds(after)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 256)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask { [batch] in
                    while clock.now < end {
                        let messages = (0..<batch).map { _ in
                            OutboundMessage(routingKey: queue, body: body, properties: .persistent(contentType: "application/octet-stream"))
                        }
                        let outcomes: [PublishOutcome]
                        do {
                            outcomes = try await connection.publish(messages)
                        } catch {
                            tally.value.withLock { $0.unconfirmed += messages.count }
                            try await Task.sleep(for: .milliseconds(50))
                            continue
                        }
                        let confirmed = outcomes.filter(\.isConfirmed).count
                        let at = clock.now
                        tally.value.withLock { $0.record(confirmed: confirmed, unconfirmed: outcomes.count - confirmed, at: at) }
                    }
                }
            }
            group.addTask { [stop] in
                try await Task.sleep(until: stopAt, clock: clock)
                try Self.shell(stop)
            }
            try await group.waitForAll()
        }
        let result = tally.value.withLock { $0 }
        let inQueue = try await connection.inspectQueue(queue).messageCount
        _ = try await connection.deleteQueue(queue)
        await connection.close()
        try Self.shell(start)

        let confirmsBefore = result.confirmations.filter { $0.at < stopAt }
        let confirmsAfter = result.confirmations.filter { $0.at >= stopAt }
        let firstAfter = confirmsAfter.first?.at
        let gap = firstAfter.map { seconds($0 - stopAt) }
        let rateBefore = Double(confirmsBefore.reduce(0) { $0 + $1.count }) / Double(before)
        let resumedFor = firstAfter.map { seconds(end - $0) } ?? 0
        let rateAfter = resumedFor > 0 ? Double(confirmsAfter.reduce(0) { $0 + $1.count }) / resumedFor : 0
        print(String(format: "confirmed publishes through a node stop: before %.0f msg/s, after %.0f msg/s, gap %@ s",
                     rateBefore, rateAfter, gap.map { String(format: "%.2f", $0) } ?? "never resumed"))
        print("  confirmed \(result.confirmed), reported unconfirmed \(result.unconfirmed), in the queue afterwards \(inQueue)"
              + " (confirmed and missing: \(max(0, result.confirmed - Int(inQueue))))")
    }

    final class TallyBox: Sendable {
        let value = Mutex(Tally())
    }

    struct Tally: Sendable {
        var confirmed = 0
        var unconfirmed = 0
        var confirmations: [(at: ContinuousClock.Instant, count: Int)] = []

        mutating func record(confirmed: Int, unconfirmed: Int, at: ContinuousClock.Instant) {
            self.confirmed += confirmed
            self.unconfirmed += unconfirmed
            if confirmed > 0 { confirmations.append((at, confirmed)) }
        }
    }

    static func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " >/dev/null 2>&1"]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("'\(command)' exited \(process.terminationStatus)") }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
