import Foundation

/// How a job ended.
public enum JobOutcome: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
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
        try WireJSON.decode(JobResult.self, from: data, kind: .result)
    }

    /// The JSON body; `error` is written as `null` when absent.
    public func encoded() -> Data { WireJSON.encode(self) }
}

extension JobResult: Codable {
    public init(from decoder: Decoder) throws {
        let fields = try StrictFields(decoder: decoder, kind: .result)
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

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(jobId, forKey: FieldKey("jobId"))
        try container.encode(endpointId, forKey: FieldKey("serverId"))
        try container.encode(outcome.rawValue, forKey: FieldKey("outcome"))
        try container.encode(instanceId, forKey: FieldKey("instanceId"))
        try container.encode(attempt, forKey: FieldKey("attempt"))
        try container.encode(durationMs, forKey: FieldKey("durationMs"))
        if let error {
            var nested = container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("error"))
            try nested.encode(error.kind.rawValue, forKey: FieldKey("kind"))
            try nested.encode(error.message, forKey: FieldKey("message"))
        } else {
            try container.encodeNil(forKey: FieldKey("error"))
        }
    }
}
