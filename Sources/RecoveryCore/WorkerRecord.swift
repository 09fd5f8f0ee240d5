import Foundation
import JSON

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
        try WorkerRecord(fields: WireJSON.fields(of: data, kind: .workerRecord))
    }

    /// The JSON string to store.
    public func encoded() -> String { String(decoding: WireJSON.encode(members), as: UTF8.self) }
}

extension WorkerRecord {
    init(fields: StrictFields) throws(MessageDecodingError) {
        instanceId = try fields.identifier("instanceId")
        host = try fields.string("host")
        pid = try fields.int("pid", atLeast: 0)
        startedAt = try fields.date("startedAt")
        heartbeatAt = try fields.date("heartbeatAt")
        sessions = try fields.int("sessions", atLeast: 0)
        capacity = try fields.int("capacity", atLeast: 0)
        metricsPort = try fields.optionalInt("metricsPort", atLeast: 1)
        version = try fields.optionalString("version")
    }

    var members: [JSONMember] {
        var members = [
            JSONMember(key: "instanceId", value: .string(instanceId)),
            JSONMember(key: "host", value: .string(host)),
            JSONMember(key: "pid", value: .integer(pid)),
            JSONMember(key: "startedAt", value: .timestamp(startedAt)),
            JSONMember(key: "heartbeatAt", value: .timestamp(heartbeatAt)),
            JSONMember(key: "sessions", value: .integer(sessions)),
            JSONMember(key: "capacity", value: .integer(capacity)),
        ]
        if let metricsPort { members.append(JSONMember(key: "metricsPort", value: .integer(metricsPort))) }
        if let version { members.append(JSONMember(key: "version", value: .string(version))) }
        return members
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
