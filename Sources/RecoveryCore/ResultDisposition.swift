import Foundation

/// What the scheduler's results consumer does with one result, as plain decisions.
public struct ResultDisposition: Sendable, Equatable {
    /// Delete `mcp:recovery:pending:{id}` if it still names the result's job
    /// (`LuaScripts.clearPendingMarkerIfJob`): no job for the endpoint is queued, retrying or running any more.
    public var clearPending: Bool
    /// Renew the pending marker's TTL (`Recovery:PendingTtlSeconds`): a retry job sits in a delay queue.
    public var refreshPending: Bool
    /// Park the endpoint (write this entry to `mcp:recovery:parked`).
    public var park: ParkedEndpoint?
    /// Remove the endpoint's park: it is up again.
    public var clearPark: Bool
    /// Apply nothing unless the pending marker still names the result's job (one atomic step): a result
    /// read late must not park an endpoint a newer job or an operator has taken over since.
    public var onlyWhilePending: Bool

    public init(clearPending: Bool = false, refreshPending: Bool = false, park: ParkedEndpoint? = nil, clearPark: Bool = false, onlyWhilePending: Bool = false) {
        self.clearPending = clearPending
        self.refreshPending = refreshPending
        self.park = park
        self.clearPark = clearPark
        self.onlyWhilePending = onlyWhilePending
    }

    /// The disposition of `result`, received at `now`. `endpointUpdatedAt` is the row's `"UpdatedAt"` if known,
    /// recorded in a park so that a later edit of the row ends it.
    public static func of(
        _ result: JobResult, at now: Date, endpointUpdatedAt: Date?, parkPeriod: TimeInterval
    ) -> ResultDisposition {
        switch result.outcome {
        case .recovered:
            return ResultDisposition(clearPending: true, clearPark: true)
        case .skipped, .stopped:
            return ResultDisposition(clearPending: true)
        case .retrying:
            return ResultDisposition(refreshPending: true)
        case .dead:
            let kind = result.error?.kind ?? .transient
            let park = ParkedEndpoint(
                endpointId: result.endpointId, reason: result.error?.message ?? "dead-lettered after attempt \(result.attempt)",
                kind: kind, parkedAt: now, until: kind == .transient ? now.addingTimeInterval(parkPeriod) : nil,
                endpointUpdatedAt: endpointUpdatedAt)
            return ResultDisposition(clearPending: true, park: park)
        }
    }
}
