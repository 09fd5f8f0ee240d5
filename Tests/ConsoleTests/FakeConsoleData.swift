import Console
import Foundation
import Recovery
import RecoveryCore
import Synchronization

/// An in-memory data source: four endpoints, one worker, three dead letters; records retries and purges.
final class FakeConsoleData: ConsoleDataSource {
    enum Action: Equatable { case retry(DeadLetterSelection), purge(DeadLetterSelection) }

    /// An endpoint address's token: never in any answer.
    static let endpointSecret = "eyJhbGciOiJIUzI1NiJ9.secret-endpoint-token"

    let actions = Mutex<[Action]>([])
    var recorded: [Action] { actions.withLock { actions in actions } }
    let failing = Mutex(false)
    let now = Date()

    func check() throws { if failing.withLock({ $0 }) { throw FakeFailure() } }

    func endpoints() async throws -> EndpointStatusReport {
        try check()
        return EndpointStatusReport(rows: [
            EndpointStatus(id: "e1", name: "kitchen", enabled: true, state: "Connected", owner: "w1", lastHeartbeat: now),
            EndpointStatus(id: "e2", name: "garage", enabled: true, state: "missing"),
            EndpointStatus(id: "e3", name: "attic", enabled: true, state: "parked", lastError: "exhausted: handshake timed out"),
            EndpointStatus(id: "e4", name: "old", enabled: false, state: "-"),
        ], takenAt: now, capacity: ClusterCapacity(workers: 1, slots: 5000, enabled: 3))
    }

    func lastResults(endpointIds: [EndpointID]) async throws -> [EndpointID: RecordedResult] {
        try check()
        return Dictionary(uniqueKeysWithValues: endpointIds.map { ($0, result($0)) })
    }

    func result(_ id: EndpointID) -> RecordedResult {
        RecordedResult(result: JobResult(jobId: "j-" + id.rawValue, endpointId: id, outcome: .recovered, instanceId: "w1", attempt: 1, durationMs: 12), receivedAt: now)
    }

    func endpoint(id: EndpointID) async throws -> EndpointDetail? {
        try check()
        guard let status = try await endpoints().rows.first(where: { $0.id == id }) else { return nil }
        return EndpointDetail(status: status, userId: "u1", updatedAt: now, results: [result(id)],
                              tools: [BoundTool(service: "weather-service", name: "weather", description: "today's weather")])
    }

    func workers() async throws -> WorkerListing {
        try check()
        var registry = WorkerRegistry()
        registry.records["w1"] = WorkerRecord(instanceId: "w1", host: "h", pid: 1, startedAt: now, heartbeatAt: now, sessions: 1, capacity: 5000)
        registry.liveness["w1"] = true
        return WorkerListing(registry: registry, takenAt: now)
    }

    func queues() async throws -> QueueReport {
        try check()
        return QueueReport(queues: [QueueDepth(name: "mcp.recovery.jobs", role: .jobs, ready: 2, consumers: 1)], takenAt: now)
    }

    func deadLetters() async throws -> [DeadLetter] {
        try check()
        return [
            DeadLetter(job: nil, endpointId: "e2", messageId: nil, reason: "permanent", attempts: 1, errorKind: "permanent", lastError: "401", diedAt: now),
            DeadLetter(job: nil, endpointId: "e3", messageId: nil, reason: "exhausted", attempts: 6, errorKind: "transient", lastError: "timed out", diedAt: now),
            DeadLetter(job: nil, endpointId: nil, messageId: nil, reason: "malformed", attempts: nil, errorKind: nil, lastError: nil, diedAt: nil),
        ]
    }

    func outcomesPerMinute() async throws -> [MinuteOutcomes] {
        try check()
        return [MinuteOutcomes(start: now, counts: [.recovered: 3, .dead: 1])]
    }

    func lastCycle() async throws -> CycleSummary? {
        try check()
        return CycleSummary(at: now, milliseconds: 42, counts: ["pending": 2], capacity: nil)
    }

    func retry(_ selection: DeadLetterSelection) async throws -> DeadLetterRetryReport {
        actions.withLock { $0.append(.retry(selection)) }
        var report = DeadLetterRetryReport()
        report.retried = try await deadLetters().filter(selection.matches).filter(\.isRetryable).count
        return report
    }

    func purge(_ selection: DeadLetterSelection) async throws -> DeadLetterPurgeReport {
        actions.withLock { $0.append(.purge(selection)) }
        return DeadLetterPurgeReport(purged: try await deadLetters().filter(selection.matches).count, notRemoved: 0, remaining: 0)
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    var description: String { "cannot reach redis://:hunter2@10.0.0.1:6379" }
}
