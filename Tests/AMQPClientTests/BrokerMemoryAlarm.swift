import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A memory alarm on the test broker: raised by setting the memory high watermark far below what the node
/// uses, cleared by setting back the watermark it had. While it holds, RabbitMQ blocks every connection that
/// publishes (`connection.blocked`) and reads nothing more from it.
struct BrokerMemoryAlarm {
    /// The `set_vm_memory_high_watermark` arguments that restore the node's setting ("0.4", "absolute N").
    let previousWatermark: [String]

    /// Raises the alarm and waits until the node reports it.
    static func raise() async throws -> BrokerMemoryAlarm {
        let current = try await rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
        let alarm = BrokerMemoryAlarm(previousWatermark: try watermarkArguments(current))
        _ = try await rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
        guard try await waitUntil(active: true) else {
            try? await alarm.clear()
            throw TestFailure("the broker did not raise a memory alarm within 20 s")
        }
        return alarm
    }

    /// Restores the watermark and waits until the node has cleared the alarm.
    func clear() async throws {
        _ = try await Self.rabbitmqctl(["set_vm_memory_high_watermark"] + previousWatermark)
        guard try await Self.waitUntil(active: false) else {
            throw TestFailure("the broker still reports a memory alarm 20 s after the watermark was restored")
        }
    }

    /// Runs `body` under the alarm and clears it on every path out, failing or not.
    static func during<T: Sendable>(_ body: (BrokerMemoryAlarm) async throws -> T) async throws -> T {
        let alarm = try await raise()
        let result: T
        do {
            result = try await body(alarm)
        } catch {
            try? await alarm.clear()
            throw error
        }
        try await alarm.clear()
        return result
    }

    /// "0.4" stays as it is; "{absolute,1073741824}" becomes `absolute 1073741824`.
    static func watermarkArguments(_ printed: String) throws -> [String] {
        let text = printed.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{absolute,"), text.hasSuffix("}") {
            return ["absolute", String(text.dropFirst("{absolute,".count).dropLast())]
        }
        guard Double(text) != nil else { throw TestFailure("unexpected memory high watermark: \(text)") }
        return [text]
    }

    static func isActive() async throws -> Bool {
        try await rabbitmqctl("eval", "rabbit_alarm:get_alarms().").contains("resource_limit,memory")
    }

    private static func waitUntil(active: Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await isActive() == active { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    static func rabbitmqctl(_ arguments: String...) async throws -> String {
        try await rabbitmqctl(arguments)
    }

    /// `services.sh rabbitmqctl ARGS` on a thread of its own, its output through a file: a daemon the
    /// command might start (epmd) must not inherit a pipe of ours.
    static func rabbitmqctl(_ arguments: [String]) async throws -> String {
        guard let script = ProcessInfo.processInfo.environment["XZ_SERVICES_SCRIPT"], !script.isEmpty else {
            throw TestFailure("XZ_SERVICES_SCRIPT is not set: run `eval \"$(scripts/services.sh start)\"` first")
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-rabbitmqctl-\(UUID().uuidString.prefix(8)).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let quoted = ([script, "rabbitmqctl"] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = "exec </dev/null >'\(log.path)' 2>&1; exec /bin/bash \(quoted.joined(separator: " "))"
        let status: Int32 = await withCheckedContinuation { continuation in
            let thread = Thread {
                let arguments = ["/bin/bash", "-c", command]
                let argv = arguments.map { strdup($0) } + [nil]
                defer { argv.forEach { free($0) } }
                var pid: pid_t = 0
                var status: Int32 = -1
                if posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ) == 0 {
                    var raw: Int32 = 0
                    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                    status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : -1
                }
                continuation.resume(returning: status)
            }
            thread.start()
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestFailure("rabbitmqctl \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return output
    }
}
