import AMQPClient
import Foundation
import RecoveryCore

/// Measures every queue of the topology for `scheduler queues`: ready and consumers by AMQP passive
/// declare, unacknowledged from the management API (unknown when it cannot be asked), and the dead
/// queue's oldest letter by reading its letters (`basic.get`, then requeued in order: only there, since
/// the jobs queue's delivery limit would count a peek as a delivery). All of them, not just the head:
/// a quorum queue puts a requeued message at its tail, so the head is not always the oldest.
public struct QueueInspector: Sendable {
    public let connection: AMQPConnection
    public let topology: Topology
    public let management: RabbitManagementAPI?
    /// At most this many dead letters are read to find the oldest.
    public let maxDeadLettersRead: Int

    /// Whether `inspect` reads the dead queue's letters for the oldest one's age (it takes and requeues
    /// them all: worth it for one command, not for a view refreshed every few seconds).
    public let readsOldestDeadLetter: Bool

    public init(connection: AMQPConnection, topology: Topology, management: RabbitManagementAPI?, maxDeadLettersRead: Int = 100_000, readsOldestDeadLetter: Bool = true) {
        self.readsOldestDeadLetter = readsOldestDeadLetter
        self.connection = connection
        self.topology = topology
        self.management = management
        self.maxDeadLettersRead = maxDeadLettersRead
    }

    /// One report; throws only when the broker itself cannot be asked.
    public func inspect(now: Date = Date()) async throws -> QueueReport {
        var problem: String? = management == nil ? "the RabbitMQ management API is not configured" : nil
        var depths: [QueueDepth] = []
        for (name, role) in QueueDepth.roles(of: topology) {
            var depth = QueueDepth(name: name, role: role)
            do throws(AMQPError) {
                let state = try await connection.inspectQueue(name)
                depth.ready = Int(state.messageCount)
                depth.consumers = Int(state.consumerCount)
            } catch {
                guard case .notFound = error else { throw error }
                depth.exists = false
                depths.append(depth)
                continue
            }
            if let management, problem == nil {
                do throws(ManagementAPIError) {
                    let counts = try await management.queueCounts(name)
                    depth.unacknowledged = counts.unacknowledged
                    if role != .dead { depth.oldestAt = counts.headMessageTimestamp }
                } catch {
                    // A queue declared a moment ago has no figures yet; anything else concerns every queue.
                    if case .queueNotFound = error {} else { problem = error.description }
                }
            }
            if role == .dead {
                depth.deadLettered = (depth.ready ?? 0) + (depth.unacknowledged ?? 0)
                if readsOldestDeadLetter { depth.oldestAt = try await oldestDeadLetter() }
            }
            depths.append(depth)
        }
        if let management, problem == nil {
            do throws(ManagementAPIError) {
                depths += try await controlQueues(management)
            } catch {
                problem = error.description
            }
        }
        return QueueReport(queues: depths, takenAt: now, managementProblem: problem)
    }

    /// Every worker's control queue, by worker.
    func controlQueues(_ management: RabbitManagementAPI) async throws(ManagementAPIError) -> [QueueDepth] {
        let prefix = topology.controlExchange + "."
        return try await management.queues(namePrefix: prefix).sorted { $0.key < $1.key }.map { name, counts in
            var depth = QueueDepth(name: name, role: .control, ready: counts.ready, unacknowledged: counts.unacknowledged, consumers: counts.consumers)
            depth.worker = String(name.dropFirst(prefix.count))
            return depth
        }
    }

    /// When the oldest dead letter died (read with `basic.get`, then requeued).
    func oldestDeadLetter() async throws -> Date? {
        try await DeadLetterQueue(connection: connection, topology: topology, maxMessages: maxDeadLettersRead).list().compactMap(\.diedAt).min()
    }
}
