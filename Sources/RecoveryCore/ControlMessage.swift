import Foundation
import JSON

/// What a control message asks one worker to do.
public enum ControlCommand: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Close the endpoint's session, delete its state and release its lease; no new job is published.
    case stop
}

/// Why a stop was requested.
public enum StopReason: String, Sendable, Equatable, Hashable, CaseIterable {
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
        try ControlMessage(fields: WireJSON.fields(of: data, kind: .control))
    }

    /// The JSON body.
    public func encoded() -> Data { Data(WireJSON.encode(members)) }
}

extension ControlMessage {
    init(fields: StrictFields) throws(MessageDecodingError) {
        command = try fields.oneOf(ControlCommand.self, "command")
        endpointId = try fields.endpointID("serverId")
        instanceId = try fields.identifier("instanceId")
        reason = try fields.oneOf(StopReason.self, "reason")
        issuedAt = try fields.date("issuedAt")
    }

    var members: [JSONMember] {
        [
            JSONMember(key: "command", value: .string(command.rawValue)),
            JSONMember(key: "serverId", value: .string(endpointId.rawValue)),
            JSONMember(key: "instanceId", value: .string(instanceId)),
            JSONMember(key: "reason", value: .string(reason.rawValue)),
            JSONMember(key: "issuedAt", value: .timestamp(issuedAt)),
        ]
    }
}
