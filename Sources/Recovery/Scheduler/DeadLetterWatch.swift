import AMQPClient
import Foundation
import Logging
import RecoveryCore

/// Reads the copy of every dead letter (`Topology.deadWatchQueue`) and settles the jobs the broker
/// dead-lettered on its own, which no worker settled (`BrokerDeadLetter.settlement`): their pending markers
/// would otherwise hold their endpoints back until they lapse. The letters themselves stay in the dead
/// queue for the operator.
struct DeadLetterWatch: Sendable {
    let consumer: AMQPConnection
    let states: any SessionStates
    let topology: Topology
    let parkPeriod: TimeInterval
    let logger: Logger

    /// Consumes the watch queue until cancelled; each settled job's `dead` result goes to `record`.
    func run(record: @escaping @Sendable (JobResult) -> Void) async {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let copies = try await consumer.consume(queue: topology.deadWatchQueue)
                backoff.reset()
                for await delivery in copies {
                    guard await settle(DeadLetter(delivery).brokerDeadLetter, record: record) else {
                        // Redis did not answer: the copy waits for the next try.
                        _ = try? await consumer.nack(delivery, requeue: true)
                        try? await Task.sleep(for: backoff.next())
                        continue
                    }
                    backoff.reset()
                    _ = try? await consumer.ack(delivery)
                }
            } catch {
                let delay = backoff.next()
                logger.warning("dead-letter watch failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Settles one letter; false when Redis could not be told.
    func settle(_ letter: BrokerDeadLetter, record: @Sendable (JobResult) -> Void) async -> Bool {
        guard let (result, disposition) = letter.settlement(at: Date(), parkPeriod: parkPeriod) else { return true }
        do {
            try await states.settle(disposition, endpointId: result.endpointId, jobId: result.jobId)
        } catch {
            logger.warning("could not settle a job the broker dead-lettered", metadata: ["server": "\(result.endpointId)", "error": "\(error)"])
            return false
        }
        record(result)
        return true
    }
}
