import Foundation
import JSON

/// Why a recovery job was published.
public enum RecoveryReason: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Enabled in Postgres, no state in Redis.
    case missing
    /// A state exists but no longer reflects a live session (old heartbeat, lease gone, not connected).
    case stale
    /// A worker shutting down handed the session off.
    case handoff
    /// A worker released the session (it closed) and asks for it to be reopened.
    case released
    /// An operator asked for it (e.g. `scheduler dead retry`).
    case manual
    /// A transient failure is being retried after a delay.
    case retry
}

/// `{"jobId","serverId","reason","attempt","enqueuedAt"}`: open endpoint `endpointId`'s session.
public struct RecoveryJob: Sendable, Equatable, Hashable {
    /// Unique per publish; also the AMQP `message_id`.
    public var jobId: String
    /// The endpoint's `"Id"`.
    public var endpointId: EndpointID
    public var reason: RecoveryReason
    /// 1 for the first attempt; grows by one with each retry.
    public var attempt: Int
    public var enqueuedAt: Date

    public init(jobId: String, endpointId: EndpointID, reason: RecoveryReason, attempt: Int = 1, enqueuedAt: Date) {
        self.jobId = jobId
        self.endpointId = endpointId
        self.reason = reason
        self.attempt = attempt
        self.enqueuedAt = enqueuedAt
    }

    /// The job that retries this one: same endpoint, reason `retry`, the next attempt number.
    public func retried(jobId: String, at date: Date) -> RecoveryJob {
        RecoveryJob(jobId: jobId, endpointId: endpointId, reason: .retry, attempt: attempt + 1, enqueuedAt: date)
    }

    /// Decodes a job body strictly: any problem is one `MessageDecodingError` naming the field.
    public static func decode(_ data: Data) throws(MessageDecodingError) -> RecoveryJob {
        try RecoveryJob(fields: WireJSON.fields(of: data, kind: .job))
    }

    /// The JSON body (keys sorted, dates ISO-8601 UTC with milliseconds).
    public func encoded() -> Data { Data(WireJSON.encode(members)) }
}

extension RecoveryJob {
    init(fields: StrictFields) throws(MessageDecodingError) {
        jobId = try fields.identifier("jobId")
        endpointId = try fields.endpointID("serverId")
        reason = try fields.oneOf(RecoveryReason.self, "reason")
        attempt = try fields.int("attempt", atLeast: 1)
        enqueuedAt = try fields.date("enqueuedAt")
    }

    var members: [JSONMember] {
        [
            JSONMember(key: "jobId", value: .string(jobId)),
            JSONMember(key: "serverId", value: .string(endpointId.rawValue)),
            JSONMember(key: "reason", value: .string(reason.rawValue)),
            JSONMember(key: "attempt", value: .integer(attempt)),
            JSONMember(key: "enqueuedAt", value: .timestamp(enqueuedAt)),
        ]
    }
}
