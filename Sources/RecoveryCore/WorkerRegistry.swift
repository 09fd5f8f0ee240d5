/// The workers' registry as Redis holds it: every instance id of the `mcp:recovery:workers` hash, whether
/// its liveness key still exists, and the records that decode.
public struct WorkerRegistry: Sendable, Equatable {
    /// Every instance id of the hash, with whether its liveness key exists.
    public var liveness: [String: Bool]
    /// The records that decode, by instance id.
    public var records: [String: WorkerRecord]

    public init(liveness: [String: Bool] = [:], records: [String: WorkerRecord] = [:]) {
        self.liveness = liveness
        self.records = records
    }

    /// The records of workers whose liveness key exists, by instance id.
    public var liveWorkers: [WorkerRecord] {
        records.filter { liveness[$0.key] == true }.sorted { $0.key < $1.key }.map(\.value)
    }
}
