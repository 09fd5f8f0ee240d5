import Foundation

/// Holds back jobs for endpoints that were live in the previous cycle and vanished without a trace (no
/// state, no lease): Redis lost its data, and the worker holding the session re-takes its lease and
/// rewrites its state within a renewal interval. Enqueuing at once would open a second session, which
/// makes Xiaozhi evict the first. After `grace` the endpoint is enqueued like any missing one. Pure.
public struct VanishGrace: Sendable {
    public let grace: TimeInterval
    /// The previous cycle's live ids, as given; made a set only when a missing job needs the lookup.
    private var previouslyLive: [EndpointID] = []
    private var vanishedAt: [EndpointID: Date] = [:]

    public init(grace: TimeInterval) {
        self.grace = grace
    }

    /// The jobs to publish now and the ids held back, given this cycle's plan.
    public mutating func filter(_ jobs: [PlannedJob], live: [EndpointID], now: Date) -> (publish: [PlannedJob], deferred: [EndpointID]) {
        var publish: [PlannedJob] = []
        var deferred: [EndpointID] = []
        var wasLive: Set<EndpointID>?
        for job in jobs {
            if job.reason == .missing, wasLive == nil, vanishedAt[job.endpointId] == nil {
                wasLive = Set(previouslyLive)
            }
            guard job.reason == .missing, wasLive?.contains(job.endpointId) == true || vanishedAt[job.endpointId] != nil else {
                publish.append(job)
                continue
            }
            let since = vanishedAt[job.endpointId] ?? now
            if now.timeIntervalSince(since) < grace {
                vanishedAt[job.endpointId] = since
                deferred.append(job.endpointId)
            } else {
                vanishedAt[job.endpointId] = nil
                publish.append(job)
            }
        }
        previouslyLive = live
        if !vanishedAt.isEmpty {
            for id in live { vanishedAt[id] = nil }
        }
        return (publish, deferred)
    }
}
