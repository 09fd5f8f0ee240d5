import ClientSupport
import Foundation
import JSON

/// The original platform's `ConnectionStatus`, stored as an integer.
public enum ConnectionStatus: Int, Sendable, Equatable, Hashable, CaseIterable {
    case connected = 0
    case disconnected = 1
    case connecting = 2
    case failed = 3

    /// The .NET enum member name, as a `JsonStringEnumConverter` would write it.
    public var name: String {
        switch self {
        case .connected: return "Connected"
        case .disconnected: return "Disconnected"
        case .connecting: return "Connecting"
        case .failed: return "Failed"
        }
    }

    /// Whether a session exists or is being opened (as opposed to one that dropped).
    public var isUp: Bool { self == .connected || self == .connecting }
}

/// The JSON value of `mcp:connection:{id}`, which the original platform's UI reads.
///
/// Written with the original's PascalCase fields plus `Owner` (`"pool"`) and `Fence` (the lease's fencing
/// number). Never holds the lease token, and `WebSocketEndpoint` is always redacted.
/// Read tolerantly: states written by the original lack `Owner`/`Fence`, unknown fields are ignored,
/// field names match case-insensitively, dates may have any fraction, an offset or no zone, and
/// `Status` may be a number or a member name.
public struct ConnectionState: Sendable, Equatable, Hashable {
    /// The `Owner` value of states the pool writes.
    public static let poolOwner = "pool"

    public var endpointId: EndpointID
    /// The process holding the session (for the pool: the worker's instance id, the control route).
    public var instanceId: String
    public var status: ConnectionStatus
    public var lastConnectedTime: Date?
    public var lastDisconnectedTime: Date?
    public var lastHeartbeat: Date
    public var reconnectAttempts: Int
    public var endpointName: String
    /// The endpoint address with its token and userinfo hidden.
    public private(set) var webSocketEndpoint: String
    /// `"pool"` for states written by this pool; nil for the original's.
    public var owner: String?
    /// The fencing number of the lease under which the state was written.
    public var fence: Int?

    /// Builds a state; `webSocketEndpoint` is redacted here, so a raw address with its token is safe to pass.
    public init(
        endpointId: EndpointID, instanceId: String, status: ConnectionStatus,
        lastConnectedTime: Date? = nil, lastDisconnectedTime: Date? = nil, lastHeartbeat: Date,
        reconnectAttempts: Int = 0, endpointName: String, webSocketEndpoint: String,
        owner: String? = ConnectionState.poolOwner, fence: Int? = nil
    ) {
        self.endpointId = endpointId
        self.instanceId = instanceId
        self.status = status
        self.lastConnectedTime = lastConnectedTime
        self.lastDisconnectedTime = lastDisconnectedTime
        self.lastHeartbeat = lastHeartbeat
        self.reconnectAttempts = reconnectAttempts
        self.endpointName = endpointName
        self.webSocketEndpoint = Redaction.webSocketAddress(webSocketEndpoint)
        self.owner = owner
        self.fence = fence
    }

    /// Whether this pool wrote the state (so a lease must back it).
    public var isWrittenByPool: Bool { owner == Self.poolOwner }

    /// Replaces the endpoint address, redacting it.
    public mutating func setWebSocketEndpoint(_ address: String) {
        webSocketEndpoint = Redaction.webSocketAddress(address)
    }

    /// Reads a stored value tolerantly (see the type's documentation).
    public static func decode(_ data: Data) throws(MessageDecodingError) -> ConnectionState {
        try decode { () throws(FlatJSONObject.Failure) in try FlatJSONObject.parse(data) }
    }

    /// Reads a stored string value tolerantly (without copying it first).
    public static func decode(_ text: String) throws(MessageDecodingError) -> ConnectionState {
        try decode { () throws(FlatJSONObject.Failure) in try FlatJSONObject.parse(text) }
    }

    private static func decode(fields parse: () throws(FlatJSONObject.Failure) -> [String: JSONValue]) throws(MessageDecodingError) -> ConnectionState {
        let fields: [String: JSONValue]
        do {
            fields = try parse()
        } catch .notAnObject {
            throw .notAnObject(.connectionState)
        } catch {
            throw .notJSON(.connectionState)
        }
        return try ConnectionState(fields: fields)
    }

    /// The JSON string to store.
    public func encoded() -> String {
        String(decoding: WireJSON.encode(members), as: UTF8.self)
    }
}

extension ConnectionState {
    /// Maps the top-level fields of a stored value, tolerantly.
    init(fields: [String: JSONValue]) throws(MessageDecodingError) {
        let kind = MessageKind.connectionState
        // Exact PascalCase names first (the common case); other spellings through a case-insensitive map.
        var lowercased: [String: JSONValue]?
        func field(_ name: String) -> JSONValue? {
            if let value = fields[name] { return value == .null ? nil : value }
            if lowercased == nil {
                var map: [String: JSONValue] = [:]
                for (key, value) in fields { map[key.lowercased()] = value }
                lowercased = map
            }
            guard let value = lowercased?[name.lowercased()], value != .null else { return nil }
            return value
        }
        func string(_ name: String) throws(MessageDecodingError) -> String? {
            guard let value = field(name) else { return nil }
            guard case .string(let text) = value else { throw .wrongType(kind, field: name, expected: "a string") }
            return text
        }
        func date(_ name: String) throws(MessageDecodingError) -> Date? {
            guard let text = try string(name) else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw .invalidValue(kind, field: name, value: StrictFields.excerpt(text), expected: "an ISO-8601 date-time")
            }
            return date
        }
        func int(_ name: String) throws(MessageDecodingError) -> Int? {
            guard let value = field(name) else { return nil }
            guard let number = value.wholeNumber else { throw .wrongType(kind, field: name, expected: "an integer") }
            return number
        }

        endpointId = EndpointID(try string("ServerId") ?? "")
        instanceId = try string("InstanceId") ?? ""
        switch field("Status") {
        case nil:
            throw .missingField(kind, field: "Status")
        case .number?:
            guard let number = field("Status")?.wholeNumber else { throw .wrongType(kind, field: "Status", expected: "an integer") }
            guard let status = ConnectionStatus(rawValue: number) else {
                throw .invalidValue(kind, field: "Status", value: String(number), expected: "0, 1, 2 or 3")
            }
            self.status = status
        case .string(let name)?:
            guard let status = ConnectionStatus.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw .invalidValue(kind, field: "Status", value: StrictFields.excerpt(name), expected: "Connected, Disconnected, Connecting or Failed")
            }
            self.status = status
        default:
            throw .wrongType(kind, field: "Status", expected: "an integer")
        }
        lastConnectedTime = try date("LastConnectedTime")
        lastDisconnectedTime = try date("LastDisconnectedTime")
        guard let heartbeat = try date("LastHeartbeat") else {
            throw .missingField(kind, field: "LastHeartbeat")
        }
        lastHeartbeat = heartbeat
        reconnectAttempts = try int("ReconnectAttempts") ?? 0
        endpointName = try string("ServerName") ?? ""
        webSocketEndpoint = Redaction.webSocketAddress(try string("WebSocketEndpoint") ?? "")
        owner = try string("Owner")
        fence = try int("Fence")
    }
}

extension ConnectionState {
    /// The original's fields (dates null when unset) plus `Owner` and `Fence` when present.
    var members: [JSONMember] {
        var members = [
            JSONMember(key: "ServerId", value: .string(endpointId.rawValue)),
            JSONMember(key: "InstanceId", value: .string(instanceId)),
            JSONMember(key: "Status", value: .integer(status.rawValue)),
            JSONMember(key: "LastConnectedTime", value: .timestamp(lastConnectedTime)),
            JSONMember(key: "LastDisconnectedTime", value: .timestamp(lastDisconnectedTime)),
            JSONMember(key: "LastHeartbeat", value: .timestamp(lastHeartbeat)),
            JSONMember(key: "ReconnectAttempts", value: .integer(reconnectAttempts)),
            JSONMember(key: "ServerName", value: .string(endpointName)),
            JSONMember(key: "WebSocketEndpoint", value: .string(webSocketEndpoint)),
        ]
        if let owner { members.append(JSONMember(key: "Owner", value: .string(owner))) }
        if let fence { members.append(JSONMember(key: "Fence", value: .integer(fence))) }
        return members
    }
}
