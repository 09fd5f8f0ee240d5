import Foundation
import Recovery

/// Queue depths sampled over the last hour, for the queues page's chart; kept in memory by the console
/// (a restart starts it again).
public struct QueueHistory: Sendable {
    public struct Sample: Sendable, Equatable {
        public var at: Date
        /// Ready plus unacknowledged (where known) per queue.
        public var depths: [String: Int]
    }

    public private(set) var samples: [Sample] = []
    public let span: TimeInterval

    public init(span: TimeInterval = 3600) {
        self.span = span
    }

    public mutating func add(_ report: QueueReport) {
        var depths: [String: Int] = [:]
        for queue in report.queues where queue.exists {
            depths[queue.name] = (queue.ready ?? 0) + (queue.unacknowledged ?? 0)
        }
        samples.append(Sample(at: report.takenAt, depths: depths))
        samples.removeFirst(samples.prefix { report.takenAt.timeIntervalSince($0.at) > span }.count)
    }
}
