/// What a reconcile pass reads of the live side (SPEC §7.1) and the housekeeping it does there: stale
/// states deleted only while unchanged, lapsed members dropped from the held-sessions index.
public protocol ReconcileReader: Sendable {
    /// Everything a reconcile pass needs for `enabled`; a full read reads every enabled id and every
    /// indexed one, otherwise the ids the held-sessions index vouches for (per `cache`) are not read.
    func observe(enabled: [EnabledEndpoint], cache: inout HeldSessionsCache, fullRead: Bool) async throws -> RedisObservation
    /// How many held sessions' lease deadlines passed after `serverTime` (milliseconds, the store's clock)
    /// and up to now; and the store's time now.
    func lapsesSince(serverTime: Int64) async throws -> (count: Int, serverTime: Int64)
    /// Drops lapsed members from the held-sessions index (those still past their deadline); returns how many.
    @discardableResult
    func forgetLapsedSessions(_ endpointIds: [EndpointID]) async throws -> Int
    /// Deletes states judged stale, each only if it still holds the value read; returns the ids deleted.
    @discardableResult
    func deleteStaleStates(_ stale: [StaleState]) async throws -> Set<EndpointID>
    /// Removes an index entry that has no state.
    func removeIndexEntry(endpointId: EndpointID) async throws
}

extension ReconcileReader {
    /// Deletes a state judged stale if it still holds the value read.
    @discardableResult
    public func deleteStaleState(_ stale: StaleState) async throws -> Bool {
        try await deleteStaleStates([stale]) == [stale.endpointId]
    }
}
