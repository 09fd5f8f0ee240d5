import Foundation

/// What a control message asks one worker to do.
public enum ControlCommand: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// Close the endpoint's session, delete its state and release its lease; no new job is published.
    case stop
}

/// Why a stop was requested.
public enum StopReason: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// The endpoint is disabled or deleted in Postgres but still has a live session.
    case orphaned
    /// An operator asked for it.
    case `operator`
}

/// `{"command","serverId","instanceId","reason","issuedAt"}`: sent to one worker through its control queue.
public struct ControlMessage: Sendable, Equatable, Hashable {
    public var command: ControlCommand
    public var endpointId: EndpointID
    /// The worker addressed; a worker ignores a message meant for another instance.
    public var instanceId: String
    public var reason: StopReason
    public var issuedAt: Date

    public init(command: ControlCommand = .stop, endpointId: EndpointID, instanceId: String, reason: StopReason, issuedAt: Date) {
        self.command = command
        self.endpointId = endpointId
        self.instanceId = instanceId
        self.reason = reason
        self.issuedAt = issuedAt
    }

    /// Decodes a control body strictly: any problem is one `MessageDecodingError` naming the field.
    public static func decode(_ data: Data) throws(MessageDecodingError) -> ControlMessage {
        try WireJSON.decode(ControlMessage.self, from: data, kind: .control)
    }

    /// The JSON body.
    public func encoded() -> Data { WireJSON.encode(self) }
}

extension ControlMessage: Codable {
    public init(from decoder: Decoder) throws {
        let fields = try StrictFields(decoder: decoder, kind: .control)
        command = try fields.oneOf(ControlCommand.self, "command")
        endpointId = try fields.endpointID("serverId")
        instanceId = try fields.identifier("instanceId")
        reason = try fields.oneOf(StopReason.self, "reason")
        issuedAt = try fields.date("issuedAt")
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(command.rawValue, forKey: FieldKey("command"))
        try container.encode(endpointId, forKey: FieldKey("serverId"))
        try container.encode(instanceId, forKey: FieldKey("instanceId"))
        try container.encode(reason.rawValue, forKey: FieldKey("reason"))
        try container.encode(Timestamp.format(issuedAt), forKey: FieldKey("issuedAt"))
    }
}
