import Foundation
import JSON

/// An endpoint whose job was dead-lettered: the scheduler does not enqueue it again until an operator
/// retries it, its row's `"UpdatedAt"` changes, or (transient failures only) the park period passes.
/// Stored as a field of the `mcp:recovery:parked` hash.
public struct ParkedEndpoint: Sendable, Equatable, Hashable {
    public var endpointId: EndpointID
    /// The last error's message (never a secret).
    public var reason: String
    public var kind: FailureKind
    public var parkedAt: Date
    /// When a transient park ends; nil means `parkedAt` + the configured park period. Ignored for permanent parks.
    public var until: Date?
    /// The endpoint row's `"UpdatedAt"` when it was parked; a different value ends the park.
    /// Nil when unknown: then any `"UpdatedAt"` later than `parkedAt` ends it.
    public var endpointUpdatedAt: Date?

    public init(endpointId: EndpointID, reason: String, kind: FailureKind, parkedAt: Date, until: Date? = nil, endpointUpdatedAt: Date? = nil) {
        self.endpointId = endpointId
        self.reason = reason
        self.kind = kind
        self.parkedAt = parkedAt
        self.until = until
        self.endpointUpdatedAt = endpointUpdatedAt
    }

    /// Whether the park still blocks enqueuing, given the endpoint row's current `"UpdatedAt"`.
    public func isActive(now: Date, endpointUpdatedAt current: Date?, parkPeriod: TimeInterval) -> Bool {
        if let current {
            if let recorded = endpointUpdatedAt {
                // Stored times keep milliseconds; Postgres keeps microseconds: compare at the stored precision.
                if abs(current.timeIntervalSince(recorded)) >= 0.001 { return false }
            } else if current > parkedAt {
                return false
            }
        }
        if kind == .transient {
            let end = until ?? parkedAt.addingTimeInterval(parkPeriod)
            if now >= end { return false }
        }
        return true
    }

    /// Reads a stored value strictly.
    public static func decode(_ data: Data) throws(MessageDecodingError) -> ParkedEndpoint {
        try ParkedEndpoint(fields: WireJSON.fields(of: data, kind: .parkedEndpoint))
    }

    /// The JSON string to store.
    public func encoded() -> String { String(decoding: WireJSON.encode(members), as: UTF8.self) }
}

extension ParkedEndpoint {
    init(fields: StrictFields) throws(MessageDecodingError) {
        endpointId = try fields.endpointID("serverId")
        reason = try fields.string("reason")
        kind = try fields.oneOf(FailureKind.self, "kind")
        parkedAt = try fields.date("parkedAt")
        until = try fields.optionalDate("until")
        endpointUpdatedAt = try fields.optionalDate("endpointUpdatedAt")
    }

    var members: [JSONMember] {
        [
            JSONMember(key: "serverId", value: .string(endpointId.rawValue)),
            JSONMember(key: "reason", value: .string(reason)),
            JSONMember(key: "kind", value: .string(kind.rawValue)),
            JSONMember(key: "parkedAt", value: .timestamp(parkedAt)),
            JSONMember(key: "until", value: .timestamp(until)),
            JSONMember(key: "endpointUpdatedAt", value: .timestamp(endpointUpdatedAt)),
        ]
    }
}
