import ArgumentParser
import Foundation
import RedisClient

/// `bench redis`: pipelined SET and GET per second through `RedisClient`, beside `redis-benchmark`
/// against the same server.
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Pipelined SET/GET throughput of RedisClient beside redis-benchmark."
    )

    @Option(help: "Redis URL (default: $REDIS_URL).")
    var url: String?

    @Option(help: "Requests per command type.")
    var requests = 200_000

    @Option(help: "Commands per pipeline flush.")
    var pipeline = 16

    /// Every RedisClient connection is driven by the process's one Redis event-loop thread, as
    /// redis-benchmark's 50 clients share its one epoll thread.
    @Option(help: "Concurrent RedisClient connections, one task each (redis-benchmark keeps its default of 50 clients).")
    var connections = 50

    @Option(help: "Rounds, alternating RedisClient and redis-benchmark (the machine may be busy; medians are printed).")
    var rounds = 3

    @Flag(help: "Skip the redis-benchmark run.")
    var skipReference = false

    func run() async throws {
        guard let url = url ?? ProcessInfo.processInfo.environment["REDIS_URL"] else {
            throw ValidationError("pass --url or set REDIS_URL")
        }
        let configuration = try RedisConfiguration(url: url)
        var clients: [RedisClient] = []
        for _ in 0..<connections {
            clients.append(try await RedisClient.connect(configuration: configuration))
        }
        let key = "bench:redis:key"
        let value = "xxx"
        var ours: [String: [Double]] = [:]
        var reference: [String: [Double]] = [:]
        var ourCPU: [Double] = []
        var referenceCPU: [Double] = []
        for round in 1...rounds {
            print("round \(round): RedisClient, \(requests) requests per command, pipeline \(pipeline), \(connections) connections, server \(configuration.serverDescription)")
            let ourStart = cpuSeconds(RUSAGE_SELF.rawValue)
            for (name, command) in [("SET", RedisCommand("SET", key, value)), ("GET", RedisCommand("GET", key))] {
                let rate = try await measure(clients: clients, command: command)
                ours[name, default: []].append(rate)
                print(String(format: "  %@: %.0f requests per second", name, rate))
            }
            ourCPU.append((cpuSeconds(RUSAGE_SELF.rawValue) - ourStart) / Double(2 * requests))
            if !skipReference {
                let referenceStart = cpuSeconds(RUSAGE_CHILDREN.rawValue)
                for (name, rate) in try await runReference(configuration) {
                    reference[name, default: []].append(rate)
                }
                referenceCPU.append((cpuSeconds(RUSAGE_CHILDREN.rawValue) - referenceStart) / Double(2 * requests))
            }
        }
        print("medians over \(rounds) rounds:")
        for name in ["SET", "GET"] {
            let mine = median(ours[name] ?? [])
            if let theirs = reference[name], !theirs.isEmpty {
                print(String(format: "  %@: RedisClient %.0f/s, redis-benchmark %.0f/s (%.0f %%)", name, mine, median(theirs), 100 * mine / median(theirs)))
            } else {
                print(String(format: "  %@: RedisClient %.0f/s", name, mine))
            }
        }
        if referenceCPU.isEmpty {
            print(String(format: "  client CPU (user + system) per request: RedisClient %.2f µs", 1e6 * median(ourCPU)))
        } else {
            print(String(format: "  client CPU (user + system) per request: RedisClient %.2f µs, redis-benchmark %.2f µs",
                         1e6 * median(ourCPU), 1e6 * median(referenceCPU)))
        }
    }

    /// User plus system CPU seconds of this process or of its waited-for children.
    private func cpuSeconds(_ who: __rusage_who_t) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// Sends `requests` copies of `command` in batches of `pipeline`, spread over the clients.
    private func measure(clients: [RedisClient], command: RedisCommand) async throws -> Double {
        let batch = [RedisCommand](repeating: command, count: pipeline)
        let batches = (requests + pipeline - 1) / pipeline
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    let share = batches / clients.count + (index < batches % clients.count ? 1 : 0)
                    group.addTask {
                        for _ in 0..<share {
                            let replies = try await client.pipeline(batch)
                            if let failure = replies.first(where: { $0.errorMessage != nil }) {
                                throw RedisError.commandFailed(server: client.configuration.serverDescription, command: command.name, message: failure.errorMessage ?? "")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        return Double(batches * pipeline) / elapsed.seconds
    }

    /// Runs redis-benchmark with the same settings and returns its rate per command type.
    private func runReference(_ configuration: RedisConfiguration) async throws -> [(String, Double)] {
        var arguments = ["-h", configuration.host, "-p", String(configuration.port), "--dbnum", String(configuration.database),
                         "-P", String(pipeline), "-t", "set,get", "-n", String(requests), "-q"]
        var shown = arguments
        if let password = configuration.password {
            arguments += ["-a", password]
            shown += ["-a", "***"]
        }
        if let username = configuration.username {
            arguments += ["--user", username]
            shown += ["--user", username]
        }
        print("redis-benchmark \(shown.joined(separator: " ")):")
        let output = try await runProcess("/usr/bin/env", ["redis-benchmark"] + arguments)
        var rates: [(String, Double)] = []
        for line in output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where line.contains("requests per second") {
            let text = line.trimmingCharacters(in: .whitespaces)
            print("  " + text)
            let parts = text.split(separator: " ")
            if parts.count > 1, let rate = Double(parts[1]) {
                rates.append((String(parts[0].dropLast()), rate))
            }
        }
        return rates
    }
}


/// Runs a program to completion without blocking a cooperative thread and returns its standard output.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, discardOutput: Bool = false) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = discardOutput ? FileHandle.nullDevice : pipe
    let collected = OutputCollector()
    if !discardOutput {
        pipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
    }
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    if !discardOutput {
        pipe.fileHandleForReading.readabilityHandler = nil
        collected.append(pipe.fileHandleForReading.readDataToEndOfFile())
    }
    guard status == 0 else {
        throw ValidationError("\(arguments.first ?? executable) exited with status \(status)")
    }
    return String(decoding: collected.data, as: UTF8.self)
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    func append(_ data: Data) { lock.withLock { buffer.append(data) } }
    var data: Data { lock.withLock { buffer } }
}
