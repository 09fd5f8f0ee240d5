import Foundation

/// A dead letter as the scheduler reads its copy from `Topology.deadWatchQueue`.
public struct BrokerDeadLetter: Sendable, Equatable {
    /// The job in the body; nil when the body is not one.
    public var job: RecoveryJob?
    /// Whether the pool published it (`x-recovery-dead-reason` set): its worker or operator settled it then.
    public var publishedByThePool: Bool
    /// Why the broker dead-lettered it (`x-first-death-reason`, such as `delivery_limit`).
    public var reason: String
    /// The queue it died in.
    public var queue: String?

    public init(job: RecoveryJob?, publishedByThePool: Bool, reason: String, queue: String?) {
        self.job = job
        self.publishedByThePool = publishedByThePool
        self.reason = reason
        self.queue = queue
    }

    /// What a job the broker dead-lettered on its own (a delivery limit reached: each delivery died with
    /// its worker, so none published a result) means, as if its worker had: a `dead` result, and so the
    /// job's pending marker cleared and the endpoint parked for the park period (the failure was never
    /// classified, so it is not permanent), only while the marker still names the job. Nil for a letter the
    /// pool published or that names no job.
    public func settlement(at now: Date, parkPeriod: TimeInterval) -> (result: JobResult, disposition: ResultDisposition)? {
        guard !publishedByThePool, let job else { return nil }
        let from = queue.map { " from queue \($0)" } ?? ""
        let result = JobResult(
            jobId: job.jobId, endpointId: job.endpointId, outcome: .dead, instanceId: Self.instanceId, attempt: job.attempt,
            durationMs: 0, error: JobError(kind: .transient, message: "dead-lettered by the broker (\(reason))\(from)"))
        var disposition = ResultDisposition.of(result, at: now, endpointUpdatedAt: nil, parkPeriod: parkPeriod)
        // A copy read late (the scheduler was down) must not park an endpoint a newer job took over.
        disposition.onlyWhilePending = true
        return (result, disposition)
    }

    /// The `instanceId` of the results made for letters the broker dead-lettered.
    public static let instanceId = "broker"
}
