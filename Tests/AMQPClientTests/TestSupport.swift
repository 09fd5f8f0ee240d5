import AMQPClient
import Foundation
import Logging
import Testing

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Broker {
    /// `AMQP_URL` from `scripts/services.sh start`; a missing variable fails the test with a clear message.
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["AMQP_URL"], !url.isEmpty else {
            throw TestFailure("AMQP_URL is not set: run `eval \"$(scripts/services.sh start)\"` first")
        }
        return url
    }

    static func configuration(name: String, heartbeatSeconds: Int = 5) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(urlString: url(), connectionName: name, heartbeatSeconds: heartbeatSeconds)
        configuration.reconnectBackoff = ReconnectBackoff(initial: .milliseconds(200), maximum: .seconds(2))
        configuration.operationTimeout = .seconds(15)
        return configuration
    }

    static func connect(_ name: String) async throws -> AMQPConnection {
        var logger = Logger(label: "amqp-test.\(name)")
        logger.logLevel = .info
        return try await AMQPConnection.connect(configuration: configuration(name: name), logger: logger)
    }

    /// A queue or exchange name no other test uses.
    static func uniqueName(_ purpose: String) -> String {
        "test.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `scripts/services.sh ARGS` on the private service set named by `XZ_SERVICES_SCRIPT`, on a thread
    /// of its own; its output goes to /dev/null so the restarted daemons hold no pipe of ours.
    static func services(_ arguments: String...) async throws {
        guard let script = ProcessInfo.processInfo.environment["XZ_SERVICES_SCRIPT"], !script.isEmpty else {
            throw TestFailure("XZ_SERVICES_SCRIPT is not set: run `eval \"$(scripts/services.sh start)\"` first")
        }
        let status: Int32 = await withCheckedContinuation { continuation in
            let thread = Thread {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                let argv = ([script] + arguments).map { strdup($0) } + [nil]
                defer { argv.forEach { free($0) } }
                var pid: pid_t = 0
                var status: Int32 = -1
                if posix_spawn(&pid, script, &actions, nil, argv, environ) == 0 {
                    var raw: Int32 = 0
                    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                    status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : -1
                }
                posix_spawn_file_actions_destroy(&actions)
                continuation.resume(returning: status)
            }
            thread.start()
        }
        guard status == 0 else {
            throw TestFailure("services.sh \(arguments.joined(separator: " ")) exited \(status)")
        }
    }
}

/// Runs `body`, failing if it takes longer than `seconds`.
func within<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let first else { throw TestFailure("\(what) did not finish within \(seconds) s") }
        return first
    }
}

/// The consumer's next delivery, failing after `seconds`.
func nextDelivery(_ consumer: AMQPConsumer, within seconds: Double = 20) async throws -> AMQPDelivery {
    try await within(seconds, "a delivery from \(consumer.queue)") {
        var iterator = consumer.makeAsyncIterator()
        guard let delivery = await iterator.next() else {
            throw TestFailure("the consumer of \(consumer.queue) ended")
        }
        return delivery
    }
}

/// Polls `basic.get` until a message arrives, failing after `seconds`.
func getWithin(_ connection: AMQPConnection, queue: String, seconds: Double = 20) async throws -> AMQPDelivery {
    try await within(seconds, "a message in \(queue)") {
        while true {
            if let delivery = try await connection.get(queue: queue) { return delivery }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
