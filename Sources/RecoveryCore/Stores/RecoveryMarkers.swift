import Foundation

/// The scheduler's and workers' bookkeeping around jobs (SPEC §5): pending-job markers, parks of
/// dead-lettered endpoints, and the cooldown clock of each endpoint's last published job. A job whose
/// marker is set is listed as queued and unreceived too (see `JobArrivals`).
public protocol RecoveryMarkers: Sendable {
    /// Sets the pending marker for `endpointId` unless one exists; returns whether it was set.
    func markPending(endpointId: EndpointID, jobId: String, ttl: Duration) async throws -> Bool
    /// Sets the pending markers of many jobs at once; returns the ids whose marker was set (the others
    /// already had a job pending).
    func markPending(_ jobs: [(endpointId: EndpointID, jobId: String)], ttl: Duration) async throws -> Set<EndpointID>
    /// Sets (or refreshes) the pending marker whatever it held: a job re-published by a worker, entering
    /// the jobs queue after `delay` (a retry's).
    func refreshPending(endpointId: EndpointID, jobId: String, ttl: Duration, entersQueueAfter delay: Duration) async throws
    /// Removes the pending marker only if it still names `jobId` (a newer job's marker survives).
    func clearPending(endpointId: EndpointID, ifJob jobId: String) async throws
    /// Removes pending markers.
    func clearPending(endpointIds: [EndpointID]) async throws
    /// Records when jobs were published for `endpointIds` (the cooldown clock).
    func recordAttempts(endpointIds: [EndpointID], at date: Date) async throws
    /// Forgets when jobs were last published for `endpointIds`.
    func clearAttempts(endpointIds: [EndpointID]) async throws
    /// Parks an endpoint whose job was dead-lettered.
    func park(_ entry: ParkedEndpoint) async throws
    /// Ends parks; returns how many existed.
    @discardableResult
    func unpark(endpointIds: [EndpointID]) async throws -> Int
    /// Every parked endpoint.
    func parkedEndpoints() async throws -> [EndpointID: ParkedEndpoint]
}

extension RecoveryMarkers {
    /// Sets the pending marker whatever it held, for a job that enters the jobs queue at once.
    public func refreshPending(endpointId: EndpointID, jobId: String, ttl: Duration) async throws {
        try await refreshPending(endpointId: endpointId, jobId: jobId, ttl: ttl, entersQueueAfter: .zero)
    }
}
