import Foundation

/// The operator's reads and manual-retry markers in memory.
public struct InMemoryOperatorView: OperatorView {
    let keyspace: InMemoryKeyspace

    public func statusReadings(serverIds: [String]) async throws -> EndpointStateReadings {
        keyspace.update { contents, _ in
            var states: [String: StateReading] = [:]
            for id in serverIds { if let stored = contents.states[id] { states[id] = StateReading(stored: stored) } }
            return EndpointStateReadings(states: states, parked: ReconcileInput.decodeParked(contents.parked).parked)
        }
    }

    public func prepareManualRetry(jobs: [RecoveryJob], pendingTtl: Duration) async throws -> [String: String] {
        keyspace.update { contents, now in
            var previous: [String: String] = [:]
            for job in jobs {
                if let park = contents.parked.removeValue(forKey: job.serverId) { previous[job.serverId] = park }
                contents.pending[job.serverId] = .init(value: job.jobId, expiresAt: now + InMemoryKeyspace.milliseconds(pendingTtl))
            }
            return previous
        }
    }

    public func undoManualRetry(jobs: [RecoveryJob], previousParks: [String: String]) async throws {
        keyspace.update { contents, now in
            for job in jobs {
                if contents.value(contents.pending[job.serverId], at: now) == job.jobId { contents.pending[job.serverId] = nil }
                if let park = previousParks[job.serverId], contents.parked[job.serverId] == nil { contents.parked[job.serverId] = park }
            }
        }
    }

    public func recordLastCycle(_ summary: CycleSummary) async throws {
        keyspace.update { contents, now in
            contents.lastCycle = .init(value: String(decoding: summary.jsonData(), as: UTF8.self), expiresAt: now + 86_400_000)
        }
    }

    public func lastCycle() async throws -> CycleSummary? {
        keyspace.update { contents, now in contents.value(contents.lastCycle, at: now) }.flatMap { CycleSummary.decode(Data($0.utf8)) }
    }
}
