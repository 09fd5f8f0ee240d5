import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `/metrics`, `/healthz` and `/readyz` of a running scheduler and worker (processes on the test
/// servers): the counters move when jobs run.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ProcessMetricsTests {
    @Test func theCountersMoveWhenJobsRun() async throws {
        let cluster = try await PoolCluster()
        let probes = try ProbedProcesses(cluster: cluster)
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(6)
            try probes.startScheduler()
            try probes.startWorker()

            // Before any result: the scheduler answers, nothing recovered yet.
            let healthy = await eventually(timeout: .seconds(20)) { (try? await probe(probes.schedulerPort, "/healthz").status) == 200 }
            #expect(healthy, "scheduler /healthz never answered 200")
            // The two processes start at once; the worker may open its listener a moment later.
            let workerHealthy = await eventually(timeout: .seconds(20)) { (try? await probe(probes.workerPort, "/healthz").status) == 200 }
            #expect(workerHealthy, "worker /healthz never answered 200")

            #expect(try await cluster.waitUntilConnected(6, timeout: .seconds(60)))

            // The scheduler: 6 jobs for missing endpoints, 6 recovered results, it leads, nothing missing now.
            let schedulerCounted = try await eventually(timeout: .seconds(20)) {
                let metrics = try await PrometheusText(probe(probes.schedulerPort, "/metrics").body)
                return metrics.value("mcp_recovery_results_total", ["outcome": "recovered"]) == 6
                    && metrics.value("mcp_recovery_missing_endpoints") == 0
            }
            let scheduler = try await PrometheusText(probe(probes.schedulerPort, "/metrics").body)
            #expect(schedulerCounted, "scheduler metrics:\n\(scheduler.text)")
            #expect(scheduler.sum("mcp_recovery_jobs_enqueued_total") >= 6, "\(scheduler.text)")
            #expect(scheduler.value("mcp_recovery_results_total", ["outcome": "recovered"]) == 6)
            #expect(scheduler.value("mcp_recovery_is_leader") == 1)
            #expect(scheduler.value("mcp_recovery_success_ratio") == 1)
            #expect(scheduler.sum("mcp_recovery_cycle_duration_seconds_count") >= 1, "no cycle timed:\n\(scheduler.text)")
            let jobsQueue = cluster.configuration.topology.jobsQueue
            #expect(scheduler.value("mcp_recovery_queue_depth", ["queue": jobsQueue]) != nil, "no depth of \(jobsQueue):\n\(scheduler.text)")

            // The worker: it holds the 6 sessions and settled 6 jobs as recovered.
            let workerCounted = try await eventually(timeout: .seconds(20)) {
                let metrics = try await PrometheusText(probe(probes.workerPort, "/metrics").body)
                return metrics.value("mcp_recovery_sessions_held") == 6
            }
            let worker = try await PrometheusText(probe(probes.workerPort, "/metrics").body)
            #expect(workerCounted, "worker metrics:\n\(worker.text)")
            #expect(worker.value("mcp_recovery_jobs_processed_total", ["outcome": "recovered"]) == 6, "\(worker.text)")
            #expect(worker.sum("mcp_recovery_connect_duration_seconds_count") == 6, "\(worker.text)")

            // Disabling two endpoints: the scheduler sends two stops, the worker holds four.
            try await cluster.setEnabled([1, 2], false)
            let stopped = try await eventually(timeout: .seconds(30)) {
                let held = try await PrometheusText(probe(probes.workerPort, "/metrics").body).value("mcp_recovery_sessions_held")
                let stops = try await PrometheusText(probe(probes.schedulerPort, "/metrics").body).value("mcp_recovery_stops_sent_total")
                return held == 4 && (stops ?? 0) >= 2
            }
            let workerAfterStops = try await probe(probes.workerPort, "/metrics").body
            #expect(stopped, "after disabling two: worker\n\(workerAfterStops)")

            let ready = try await probe(probes.schedulerPort, "/readyz")
            #expect(ready.status == 200, "\(ready.body)")
            #expect(try await probe(probes.workerPort, "/readyz").status == 200)
            #expect(try await probe(probes.workerPort, "/nothing-here").status == 404)
        } catch {
            Issue.record("logs:\n\(probes.logs)\n\(cluster.logs)")
            await probes.stop()
            await cluster.shutdown()
            throw error
        }
        await probes.stop()
        await cluster.shutdown()
    }
}

/// `/readyz` follows Redis: 503 while it is stopped, 200 again once it is back. Stops a server, so it
/// runs alone (scripts/test.sh runs the `OutageTests` suites one at a time after the rest).
@Suite(.serialized, .timeLimit(.minutes(4)))
struct ObservabilityOutageTests {
    @Test func readyzTurns503WhileRedisIsDownAnd200WhenItReturns() async throws {
        let services = try requiredEnvironment("XZ_SERVICES_SCRIPT")
        let cluster = try await PoolCluster()
        let probes = try ProbedProcesses(cluster: cluster)
        var redisStopped = false
        do {
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(3)
            try probes.startScheduler()
            try probes.startWorker()
            #expect(try await cluster.waitUntilConnected(3, timeout: .seconds(60)))
            for port in [probes.schedulerPort, probes.workerPort] {
                let ready = await eventually(timeout: .seconds(20)) { (try? await probe(port, "/readyz").status) == 200 }
                #expect(ready, "port \(port): /readyz is not 200 with every server up")
            }

            try await runServices(services, "stop-one", "redis")
            redisStopped = true
            for (name, port) in [("scheduler", probes.schedulerPort), ("worker", probes.workerPort)] {
                var last = ""
                let unready = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                    guard let answer = try? await probe(port, "/readyz") else { return false }
                    last = "\(answer.status) \(answer.body)"
                    return answer.status == 503 && answer.body.lowercased().contains("redis")
                }
                #expect(unready, "\(name) /readyz with Redis stopped: \(last)")
                for secret in ProbedProcesses.passwords(in: cluster.environment) {
                    #expect(!last.contains(secret), "\(name) /readyz shows a password: \(last)")
                }
                // Alive all the same.
                #expect(try await probe(port, "/healthz").status == 200, "\(name) /healthz with Redis stopped")
                let metrics = try await probe(port, "/metrics")
                #expect(metrics.status == 200, "\(name) /metrics with Redis stopped")
            }

            try await runServices(services, "start-one", "redis")
            redisStopped = false
            for (name, port) in [("scheduler", probes.schedulerPort), ("worker", probes.workerPort)] {
                var last = ""
                let ready = await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                    guard let answer = try? await probe(port, "/readyz") else { return false }
                    last = "\(answer.status) \(answer.body)"
                    return answer.status == 200
                }
                #expect(ready, "\(name) /readyz after Redis returned: \(last)")
            }
            #expect(probes.scheduler?.isRunning == true, "the scheduler died during the outage")
            #expect(probes.worker?.isRunning == true, "the worker died during the outage")
        } catch {
            Issue.record("logs:\n\(probes.logs)\n\(cluster.logs)")
            if redisStopped { try? await runServices(services, "start-one", "redis") }
            await probes.stop()
            await cluster.shutdown()
            throw error
        }
        await probes.stop()
        await cluster.shutdown()
    }

    /// `services.sh ACTION NAME`, spawned on a thread of its own with its output to /dev/null and every
    /// descriptor above stderr closed: the Redis daemon it starts must inherit none of this process's
    /// pipes (Foundation's `Process` would then wait for them forever).
    func runServices(_ script: String, _ action: String, _ name: String) async throws {
        let argv = ["/bin/bash", "-c",
                    "for fd in /proc/$$/fd/*; do n=${fd##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\"; done 2>/dev/null; exec \"$@\"",
                    "services", script, action, name]
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: spawnAndWait(argv)) }
        }
        guard status == 0 else { throw HarnessError("\(script) \(action) \(name) exited \(status)") }
    }
}

/// posix_spawn `argv` with stdout and stderr on /dev/null and wait for it; its exit status.
private func spawnAndWait(_ argv: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var arguments = argv.map { strdup($0) } + [nil]
    defer { arguments.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0], &actions, nil, &arguments, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}

/// A scheduler and a worker of a `PoolCluster`, each with its probe server on a free port of its own.
final class ProbedProcesses: @unchecked Sendable {
    let cluster: PoolCluster
    let schedulerPort: Int
    let workerPort: Int
    private(set) var scheduler: PoolProcess?
    private(set) var worker: PoolProcess?

    init(cluster: PoolCluster) throws {
        self.cluster = cluster
        schedulerPort = try freePort()
        workerPort = try freePort()
    }

    func startScheduler() throws {
        scheduler = try PoolProcess(
            product: "scheduler", arguments: ["run"],
            environment: cluster.environment.merging(["Metrics__Port": "\(schedulerPort)", "Metrics__Host": "127.0.0.1"]) { _, new in new },
            name: "\(cluster.namespace)-probed-scheduler")
    }

    func startWorker() throws {
        worker = try PoolProcess(
            product: "worker", arguments: ["run"],
            environment: cluster.environment.merging(["Metrics__Port": "\(workerPort)", "Metrics__Host": "127.0.0.1"]) { _, new in new },
            name: "\(cluster.namespace)-probed-worker")
    }

    func stop() async {
        await worker?.stop(grace: .seconds(15))
        await scheduler?.stop(grace: .seconds(15))
    }

    var logs: String {
        [scheduler, worker].compactMap { $0 }.map { "==== \($0.name)\n\($0.log.suffix(6000))" }.joined(separator: "\n")
    }

    /// The passwords of the connection URLs in `environment`.
    static func passwords(in environment: [String: String]) -> [String] {
        ["DATABASE_URL", "REDIS_URL", "AMQP_URL"].compactMap { environment[$0].flatMap { URLComponents(string: $0)?.password } }.filter { !$0.isEmpty }
    }
}

/// A TCP port free on loopback right now (bound to 0, read, closed).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw HarnessError("bind() failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw HarnessError("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One HTTP GET of a probe server on loopback: status and body.
func probe(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.timeoutInterval = 10
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse else { throw HarnessError("no HTTP answer from port \(port)\(path)") }
    return (http.statusCode, String(decoding: data, as: UTF8.self))
}

/// Prometheus text exposition, read into samples.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let text: String
    let samples: [Sample]

    init(_ text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap { Self.parse(String($0)) }
    }

    static func parse(_ line: String) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        let body = series[series.index(after: brace)...].dropLast()
        let pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/
        for match in body.matches(of: pattern) { labels[String(match.1)] = String(match.2) }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    /// The value of the one sample named `name` whose labels include `labels`; nil when absent.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// The sum over every sample named `name` (0 when none).
    func sum(_ name: String) -> Double {
        samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }
    }
}
