import AMQPClient
import Foundation
import RecoveryCore

/// One message of the dead-letter queue, read from its body and headers: which endpoint, why it died,
/// after how many attempts, with what error, and when. Built for dead letters the pool published
/// (`x-recovery-*` headers) and for those the broker dead-lettered itself (`x-first-death-*`, `x-death`).
public struct DeadLetter: Sendable, Equatable {
    /// The job in the body; nil when the body is not a valid job.
    public var job: RecoveryJob?
    /// The endpoint id: the job's, else the `x-recovery-server-id` header's; nil when neither says.
    public var endpointId: EndpointID?
    /// The AMQP `message_id`.
    public var messageId: String?
    /// `x-recovery-dead-reason` (permanent, exhausted, malformed), else the broker's
    /// `x-first-death-reason` (e.g. `delivery_limit`), else `unknown`.
    public var reason: String
    /// The attempt that failed last: `x-recovery-attempt`, else the job's attempt.
    public var attempts: Int?
    /// `x-recovery-error-kind`: transient or permanent.
    public var errorKind: String?
    /// `x-recovery-error`, or for a broker dead letter the queue it came from.
    public var lastError: String?
    /// `x-recovery-died-at`, else the time in the broker's first `x-death` entry.
    public var diedAt: Date?
    /// Whether the pool published it (`x-recovery-dead-reason` set), rather than the broker dead-lettering it.
    public var publishedByThePool = false
    /// For a letter the broker dead-lettered, the queue it died in.
    public var brokerQueue: String?

    public static let unknownReason = "unknown"

    public init(job: RecoveryJob?, endpointId: EndpointID?, messageId: String?, reason: String, attempts: Int?, errorKind: String?, lastError: String?, diedAt: Date?) {
        self.job = job
        self.endpointId = endpointId
        self.messageId = messageId
        self.reason = reason
        self.attempts = attempts
        self.errorKind = errorKind
        self.lastError = lastError
        self.diedAt = diedAt
    }

    /// Reads a dead message; never fails (a malformed body gives a dead letter without a job).
    public init(body: [UInt8], headers: AMQPTable, messageId: String?) {
        let header = Topology.DeadLetterHeader.self
        let job = try? RecoveryJob.decode(Data(body))
        self.job = job
        self.messageId = messageId
        endpointId = job?.endpointId ?? headers[header.endpointId]?.stringValue.flatMap { $0.isEmpty ? nil : EndpointID($0) }
        let firstDeath = headers["x-death"]?.arrayValue?.first?.tableValue
        if let reason = headers[header.reason]?.stringValue, !reason.isEmpty {
            self.reason = reason
            publishedByThePool = true
        } else if let reason = headers["x-first-death-reason"]?.stringValue ?? firstDeath?["reason"]?.stringValue, !reason.isEmpty {
            self.reason = reason
        } else {
            reason = Self.unknownReason
        }
        attempts = headers[header.attempt]?.intValue.map { Int($0) } ?? job?.attempt
        errorKind = headers[header.errorKind]?.stringValue
        if let error = headers[header.error]?.stringValue {
            lastError = error
        } else if let queue = headers["x-first-death-queue"]?.stringValue ?? firstDeath?["queue"]?.stringValue {
            brokerQueue = queue
            lastError = "dead-lettered by the broker from queue \(queue)"
        } else {
            lastError = nil
        }
        if let stamp = headers[header.diedAt]?.stringValue, let date = Timestamp.parse(stamp) {
            diedAt = date
        } else if case .timestamp(let seconds)? = firstDeath?["time"] {
            diedAt = Date(timeIntervalSince1970: TimeInterval(seconds))
        } else {
            diedAt = nil
        }
    }

    /// Reads a delivery from the dead-letter queue.
    public init(_ delivery: AMQPDelivery) {
        self.init(body: delivery.body, headers: delivery.headers, messageId: delivery.properties.messageID)
    }

    /// What the scheduler's dead-letter watch reads of it.
    public var brokerDeadLetter: BrokerDeadLetter {
        BrokerDeadLetter(job: job, publishedByThePool: publishedByThePool, reason: reason, queue: brokerQueue)
    }

    /// Whether `dead retry` can turn it into a job (it names an endpoint).
    public var isRetryable: Bool { endpointId != nil }
}
