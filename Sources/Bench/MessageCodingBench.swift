import ArgumentParser
import Foundation
import RecoveryCore

/// Microseconds per encode + strict decode of the messages every moved session costs (a job, its result,
/// the connection state), beside Foundation's `JSONEncoder`/`JSONDecoder` on mirror types with synthesized
/// `Codable` (no field checks at all, so the peer's figure is a floor).
struct MessageCodingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Microseconds per encoded and decoded job, result and connection state, vs Foundation Codable."
    )

    @Option(help: "Seconds to run each message and coder.")
    var seconds = 1.0

    mutating func run() async throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        let now = Date(timeIntervalSince1970: 1_796_000_000.25)
        let job = RecoveryJob(jobId: UUID().uuidString, endpointId: "endpoint-004217", reason: .stale, attempt: 1, enqueuedAt: now)
        let result = JobResult(
            jobId: job.jobId, endpointId: job.endpointId, outcome: .recovered, instanceId: "worker-2:4711:9f0c2a7e5b1d4c3e8a6f0b2d4e6c8a0f",
            attempt: 1, durationMs: 212)
        let state = ConnectionState(
            endpointId: job.endpointId, instanceId: result.instanceId, status: .connected, lastConnectedTime: now, lastHeartbeat: now,
            endpointName: "Living room", webSocketEndpoint: "wss://api.xiaozhi.me/mcp/?token=redacted", fence: 90_211)

        let rows: [(String, () -> Void, () -> Void)] = [
            ("job", {
                precondition((try? RecoveryJob.decode(job.encoded())) == job)
            }, {
                precondition((try? PeerCoding.roundTrip(PeerJob(job))) != nil)
            }),
            ("result", {
                precondition((try? JobResult.decode(result.encoded())) == result)
            }, {
                precondition((try? PeerCoding.roundTrip(PeerResult(result))) != nil)
            }),
            ("connection state", {
                precondition((try? ConnectionState.decode(state.encoded())) == state)
            }, {
                precondition((try? PeerCoding.roundTrip(PeerState(state))) != nil)
            }),
        ]
        print("message            wire coding   Foundation Codable   ratio   (µs per encode + decode)")
        for (name, ours, peer) in rows {
            let own = microseconds(ours)
            let foundation = microseconds(peer)
            let label = name.padding(toLength: 18, withPad: " ", startingAt: 0)
            print(label + String(format: " %8.2f      %8.2f             %5.1fx", own, foundation, foundation / own))
        }
    }

    /// Runs `body` in batches for `seconds`; microseconds per call.
    private func microseconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let budget = Duration.milliseconds(Int64(seconds * 1000))
        let start = clock.now
        var calls = 0
        while clock.now - start < budget {
            for _ in 0..<200 { body() }
            calls += 200
        }
        let elapsed = clock.now - start
        return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(calls)
    }
}

/// The peer: Foundation's coders, configured as the wire is written (sorted keys, slashes unescaped).
private enum PeerCoding {
    static func roundTrip<T: Codable>(_ value: T) throws -> T {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JSONDecoder().decode(T.self, from: encoder.encode(value))
    }
}

private struct PeerJob: Codable {
    var jobId, serverId, reason, enqueuedAt: String
    var attempt: Int
    init(_ job: RecoveryJob) {
        (jobId, serverId, reason, attempt) = (job.jobId, job.endpointId.rawValue, job.reason.rawValue, job.attempt)
        enqueuedAt = Timestamp.format(job.enqueuedAt)
    }
}

private struct PeerResult: Codable {
    struct Failure: Codable { var kind, message: String }
    var jobId, serverId, outcome, instanceId: String
    var attempt, durationMs: Int
    var error: Failure?
    init(_ result: JobResult) {
        (jobId, serverId, outcome, instanceId) = (result.jobId, result.endpointId.rawValue, result.outcome.rawValue, result.instanceId)
        (attempt, durationMs) = (result.attempt, result.durationMs)
        error = result.error.map { Failure(kind: $0.kind.rawValue, message: $0.message) }
    }
}

private struct PeerState: Codable {
    var ServerId, InstanceId, LastHeartbeat, ServerName, WebSocketEndpoint: String
    var LastConnectedTime, LastDisconnectedTime, Owner: String?
    var Status, ReconnectAttempts: Int
    var Fence: Int?
    init(_ state: ConnectionState) {
        (ServerId, InstanceId, ServerName, WebSocketEndpoint) = (state.endpointId.rawValue, state.instanceId, state.endpointName, state.webSocketEndpoint)
        LastHeartbeat = Timestamp.format(state.lastHeartbeat)
        LastConnectedTime = state.lastConnectedTime.map(Timestamp.format)
        LastDisconnectedTime = state.lastDisconnectedTime.map(Timestamp.format)
        (Owner, Status, ReconnectAttempts, Fence) = (state.owner, state.status.rawValue, state.reconnectAttempts, state.fence)
    }
}
