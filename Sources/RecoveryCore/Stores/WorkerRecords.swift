/// The worker registry (SPEC §5 `mcp:recovery:workers` and each worker's liveness key).
public protocol WorkerRecords: Sendable {
    /// Writes the worker's record and renews its liveness key for `ttl`.
    func record(_ record: WorkerRecord, ttl: Duration) async throws
    /// Removes a worker's record and liveness key (a clean stop).
    func remove(instanceId: String) async throws
    /// Every record, with whether its liveness key exists.
    func registry() async throws -> WorkerRegistry
    /// Removes the records of `instanceIds` whose liveness key is still gone; returns how many.
    @discardableResult
    func forget(_ instanceIds: [String]) async throws -> Int
}
