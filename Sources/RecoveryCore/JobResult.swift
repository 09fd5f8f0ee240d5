import Foundation
import JSON

/// How a job ended.
public enum JobOutcome: String, Sendable, Equatable, Hashable, CaseIterable {
    /// The session is up and held by `instanceId`.
    case recovered
    /// Another holder has the lease (or the endpoint is disabled, or already live): nothing to do.
    case skipped
    /// A transient failure; a retry job was scheduled.
    case retrying
    /// Dead-lettered: a permanent failure or attempts exhausted. The endpoint gets parked.
    case dead
    /// The session was stopped on request (disabled or deleted endpoint).
    case stopped
}

/// `{"jobId","serverId","outcome","instanceId","attempt","durationMs","error"}`: published for every job.
public struct JobResult: Sendable, Equatable, Hashable {
    public var jobId: String
    public var endpointId: EndpointID
    public var outcome: JobOutcome
    /// The worker that handled the job (and, for `recovered`, holds the session).
    public var instanceId: String
    public var attempt: Int
    public var durationMs: Int
    /// Null unless the attempt failed.
    public var error: JobError?

    public init(
        jobId: String, endpointId: EndpointID, outcome: JobOutcome, instanceId: String,
        attempt: Int, durationMs: Int, error: JobError? = nil
    ) {
        self.jobId = jobId
        self.endpointId = endpointId
        self.outcome = outcome
        self.instanceId = instanceId
        self.attempt = attempt
        self.durationMs = durationMs
        self.error = error
    }

    /// Decodes a result body strictly: any problem is one `MessageDecodingError` naming the field.
    public static func decode(_ data: Data) throws(MessageDecodingError) -> JobResult {
        try JobResult(fields: WireJSON.fields(of: data, kind: .result))
    }

    /// The JSON body; `error` is written as `null` when absent.
    public func encoded() -> Data { Data(WireJSON.encode(members)) }
}

extension JobResult {
    init(fields: StrictFields) throws(MessageDecodingError) {
        jobId = try fields.identifier("jobId")
        endpointId = try fields.endpointID("serverId")
        outcome = try fields.oneOf(JobOutcome.self, "outcome")
        instanceId = try fields.identifier("instanceId")
        attempt = try fields.int("attempt", atLeast: 1)
        durationMs = try fields.int("durationMs", atLeast: 0)
        if let nested = try fields.optionalObject("error") {
            error = JobError(kind: try nested.oneOf(FailureKind.self, "kind"), message: try nested.string("message"))
        } else {
            error = nil
        }
    }

    var members: [JSONMember] {
        [
            JSONMember(key: "jobId", value: .string(jobId)),
            JSONMember(key: "serverId", value: .string(endpointId.rawValue)),
            JSONMember(key: "outcome", value: .string(outcome.rawValue)),
            JSONMember(key: "instanceId", value: .string(instanceId)),
            JSONMember(key: "attempt", value: .integer(attempt)),
            JSONMember(key: "durationMs", value: .integer(durationMs)),
            JSONMember(key: "error", value: error.map { .object(["kind": .string($0.kind.rawValue), "message": .string($0.message)]) } ?? .null),
        ]
    }
}
