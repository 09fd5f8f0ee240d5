import Foundation

/// The operator's reads and manual-retry markers in memory.
public struct InMemoryOperatorView: OperatorView {
    let keyspace: InMemoryKeyspace

    public func statusReadings(endpointIds: [EndpointID]) async throws -> EndpointStateReadings {
        keyspace.update { contents, _ in
            var states: [EndpointID: StateReading] = [:]
            for id in endpointIds { if let stored = contents.states[id] { states[id] = StateReading(stored: stored) } }
            return EndpointStateReadings(states: states, parked: ReconcileInput.decodeParked(contents.parked).parked)
        }
    }

    public func prepareManualRetry(jobs: [RecoveryJob], pendingTtl: Duration) async throws -> [EndpointID: String] {
        keyspace.update { contents, now in
            var previous: [EndpointID: String] = [:]
            for job in jobs {
                if let park = contents.parked.removeValue(forKey: job.endpointId) { previous[job.endpointId] = park }
                contents.pending[job.endpointId] = .init(value: job.jobId, expiresAt: now + InMemoryKeyspace.milliseconds(pendingTtl))
            }
            return previous
        }
    }

    public func undoManualRetry(jobs: [RecoveryJob], previousParks: [EndpointID: String]) async throws {
        keyspace.update { contents, now in
            for job in jobs {
                if contents.value(contents.pending[job.endpointId], at: now) == job.jobId { contents.pending[job.endpointId] = nil }
                if let park = previousParks[job.endpointId], contents.parked[job.endpointId] == nil { contents.parked[job.endpointId] = park }
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
