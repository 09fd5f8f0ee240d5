/// Which published jobs workers have received (see `QueuedJob`). A job enters the index when its pending
/// marker is set (`RecoveryMarkers.markPending` / `refreshPending`), leaves it when a worker receives it,
/// and the scheduler forgets those that left the queue unseen.
public protocol JobArrivals: Sendable {
    /// A worker received `job`: it leaves the index, and its entry time moves the received-through mark.
    func received(_ job: RecoveryJob) async throws
    /// The jobs still in the index that entered more than `slack` before the newest job received (at most
    /// `limit`, oldest first); entries older than `expiry` (a pending marker's TTL) are dropped first.
    func unreceived(slack: Duration, limit: Int, expiry: Duration) async throws -> [QueuedJob]
    /// Drops these entries, and the pending marker of each while it still names the job.
    func forget(_ jobs: [QueuedJob]) async throws
}
