/// A published job no worker has received yet, as `RedisKeys.queuedJobs` lists it: which endpoint, which
/// job, and when it entered the jobs queue (Redis server time in milliseconds; a retry's enters after its
/// delay).
///
/// The jobs queue hands jobs out in the order they entered it, and a worker records each job it receives
/// (`JobArrivals.received`). So a job that entered more than `receiptSlack` before the newest job received
/// and is still unreceived has left the queue unseen (an operator purged it, or its publish was lost, or
/// it sits in the prefetch of a worker that stopped): its pending marker is stale, and the endpoint is
/// queued again at once rather than after `Recovery:PendingTtlSeconds`. A job taken twice this way costs a
/// skipped attempt (the lease decides who connects), never a second session.
public struct QueuedJob: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    public var jobId: String
    public var enteredAt: Int64

    public init(endpointId: EndpointID, jobId: String, enteredAt: Int64 = 0) {
        self.endpointId = endpointId
        self.jobId = jobId
        self.enteredAt = enteredAt
    }

    /// How long a later job's receipt may precede this one's before this one counts as gone: covers the
    /// receipts of jobs dispatched together to different workers landing out of order, and the hop from a
    /// retry queue into the jobs queue.
    public static let receiptSlack: Duration = .seconds(5)

    /// The index member: `jobId endpointId` (neither holds whitespace).
    public var member: String { jobId + " " + endpointId.rawValue }

    /// Reads an index member; nil for one that is not `jobId endpointId`.
    public init?(member: String, enteredAt: Int64) {
        guard let space = member.firstIndex(of: " ") else { return nil }
        let jobId = String(member[..<space]), endpoint = String(member[member.index(after: space)...])
        guard !jobId.isEmpty, !endpoint.isEmpty, !endpoint.contains(" ") else { return nil }
        self.init(endpointId: EndpointID(endpoint), jobId: jobId, enteredAt: enteredAt)
    }
}
