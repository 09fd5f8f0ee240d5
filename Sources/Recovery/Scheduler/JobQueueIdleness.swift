import AMQPClient
import Foundation
import RecoveryCore

/// Whether no job waits anywhere: the jobs queue and every retry queue hold no ready message (AMQP passive
/// declare, exact) and no unacknowledged delivery (management API, sampled every few seconds by the
/// broker). Unknown counts answer "not idle", so the rule it feeds only ever acts on certainty; a job
/// published within the broker's sampling period may be missed, which costs one duplicate job (its
/// lease makes it harmless).
public struct JobQueueIdleness: Sendable {
    let connection: AMQPConnection
    let topology: Topology
    let management: RabbitManagementAPI?

    public init(connection: AMQPConnection, topology: Topology, management: RabbitManagementAPI?) {
        self.connection = connection
        self.topology = topology
        self.management = management
    }

    public func isIdle() async -> Bool {
        guard let management else { return false }
        let queues = [topology.jobsQueue] + topology.retryQueueNames
        for name in queues {
            guard let state = try? await connection.inspectQueue(name), state.messageCount == 0 else { return false }
            guard let counts = try? await management.queueCounts(name), counts.unacknowledged == 0, counts.ready == 0 else { return false }
        }
        return true
    }
}
