import Foundation

/// A worker's entry in the `mcp:recovery:workers` hash: who it is and how loaded it was at its last heartbeat.
public struct WorkerRecord: Sendable, Equatable, Hashable {
    public var instanceId: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Sessions held at the last heartbeat.
    public var sessions: Int
    /// `Worker:MaxSessions` (or less, when the open-file limit holds fewer).
    public var capacity: Int
    /// The port its metrics and health are served on, when they are (it may have moved off
    /// `Metrics:Port` because another process on the host had it).
    public var metricsPort: Int?
    /// The worker's `PoolVersion` (absent in records of releases before it was kept).
    public var version: String?

    public init(instanceId: String, host: String, pid: Int, startedAt: Date, heartbeatAt: Date, sessions: Int, capacity: Int, metricsPort: Int? = nil,
                version: String? = PoolVersion.current) {
        self.version = version
        self.instanceId = instanceId
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.sessions = sessions
        self.capacity = capacity
        self.metricsPort = metricsPort
    }

    /// Reads a stored value strictly.
    public static func decode(_ data: Data) throws(MessageDecodingError) -> WorkerRecord {
        try WireJSON.decode(WorkerRecord.self, from: data, kind: .workerRecord)
    }

    /// The JSON string to store.
    public func encoded() -> String { String(decoding: WireJSON.encode(self), as: UTF8.self) }
}

extension WorkerRecord: Codable {
    public init(from decoder: Decoder) throws {
        let fields = try StrictFields(decoder: decoder, kind: .workerRecord)
        instanceId = try fields.identifier("instanceId")
        host = try fields.string("host")
        pid = try fields.int("pid", atLeast: 0)
        startedAt = try fields.date("startedAt")
        heartbeatAt = try fields.date("heartbeatAt")
        sessions = try fields.int("sessions", atLeast: 0)
        capacity = try fields.int("capacity", atLeast: 0)
        metricsPort = fields.isAbsentOrNull("metricsPort") ? nil : try fields.int("metricsPort", atLeast: 1)
        version = fields.isAbsentOrNull("version") ? nil : try fields.string("version")
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(instanceId, forKey: FieldKey("instanceId"))
        try container.encode(host, forKey: FieldKey("host"))
        try container.encode(pid, forKey: FieldKey("pid"))
        try container.encode(Timestamp.format(startedAt), forKey: FieldKey("startedAt"))
        try container.encode(Timestamp.format(heartbeatAt), forKey: FieldKey("heartbeatAt"))
        try container.encode(sessions, forKey: FieldKey("sessions"))
        try container.encode(capacity, forKey: FieldKey("capacity"))
        if let metricsPort { try container.encode(metricsPort, forKey: FieldKey("metricsPort")) }
        if let version { try container.encode(version, forKey: FieldKey("version")) }
    }
}

extension WorkerRecord {
    /// An instance id in the original platform's form, `host:pid:random` (32 lowercase hex digits from `uuid`).
    /// Characters a queue name cannot carry are replaced by `-`.
    public static func makeInstanceId(host: String, pid: Int, uuid: UUID) -> String {
        let safeHost = String(host.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "-" })
        let random = uuid.uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "\(safeHost.isEmpty ? "worker" : String(safeHost.prefix(100))):\(pid):\(random)"
    }
}
