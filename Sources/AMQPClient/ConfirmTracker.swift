/// Matches publisher-confirm acks, nacks and returns to the messages of publish batches.
///
/// Sequence numbers start at 1 on each channel in confirm mode and count every publish. Acks and nacks
/// may cover many messages at once (`multiple`). A `basic.return` carries no sequence number, but the
/// broker sends it before the ack of the same message and in publish order, so it belongs to the earliest
/// unconfirmed, not yet returned message with the same exchange, routing key and message id.
///
/// A batch may carry a deadline: once it passes (`expire(now:error:)`), the messages the broker has not
/// answered complete as `.unconfirmed`, whether they were written or still waiting to be, and a late ack
/// or nack for them is ignored. The caller learns in bounded time that the broker may or may not hold them.
struct ConfirmTracker {
    typealias BatchID = UInt64

    struct Completion: Equatable {
        var batch: BatchID
        var outcomes: [PublishOutcome]
    }

    private struct Pending {
        var batch: BatchID
        var index: Int
        var exchange: String
        var routingKey: String
        var messageID: String?
        var returned: PublishOutcome?
    }

    private struct Batch {
        var outcomes: [PublishOutcome?]
        var remaining: Int
        var deadline: ContinuousClock.Instant?
    }

    private(set) var nextSequence: UInt64 = 1
    private var lowestPending: UInt64 = 1
    private var pending: [UInt64: Pending] = [:]
    private var batches: [BatchID: Batch] = [:]
    /// No open batch's deadline is earlier than this, so `expire` looks at the batches only once it passes.
    private var earliestDeadline: ContinuousClock.Instant?

    /// Messages published and not yet acked or nacked.
    var inFlight: Int { pending.count }

    /// Starts a batch of `count` messages, to be settled by `deadline` at the latest (nil: no deadline).
    mutating func open(batch: BatchID, count: Int, deadline: ContinuousClock.Instant? = nil) -> Completion? {
        batches[batch] = Batch(outcomes: Array(repeating: nil, count: count), remaining: count, deadline: deadline)
        if let deadline, count > 0 { earliestDeadline = min(earliestDeadline ?? deadline, deadline) }
        return count == 0 ? finish(batch) : nil
    }

    /// Whether `batch` still waits for outcomes (its messages are worth writing).
    func isOpen(_ batch: BatchID) -> Bool { batches[batch] != nil }

    /// Completes every batch whose deadline is at or before `now`: messages without an answer become
    /// `.unconfirmed(error)` and are forgotten, so their late acks and nacks change nothing. (A late
    /// return could only be taken for a later message with the same exchange, routing key and message id.)
    mutating func expire(now: ContinuousClock.Instant, error: AMQPError) -> [Completion] {
        guard let earliest = earliestDeadline, earliest <= now else { return [] }
        let due = Set(batches.compactMap { id, batch in batch.deadline.map { $0 <= now } == true ? id : nil })
        earliestDeadline = batches.values.compactMap { $0.deadline.flatMap { $0 > now ? $0 : nil } }.min()
        guard !due.isEmpty else { return [] }
        pending = pending.filter { !due.contains($0.value.batch) }
        while lowestPending < nextSequence, pending[lowestPending] == nil { lowestPending += 1 }
        return due.sorted().compactMap { id in
            guard let batch = batches.removeValue(forKey: id) else { return nil }
            return Completion(batch: id, outcomes: batch.outcomes.map { $0 ?? .unconfirmed(error) })
        }
    }

    /// Records that message `index` of `batch` went out with the next sequence number.
    mutating func published(batch: BatchID, index: Int, exchange: String, routingKey: String, messageID: String?) {
        pending[nextSequence] = Pending(
            batch: batch, index: index, exchange: exchange, routingKey: routingKey, messageID: messageID)
        nextSequence += 1
    }

    /// Settles message `index` of `batch` without the broker (it was never sent, or its channel died).
    mutating func settle(batch: BatchID, index: Int, outcome: PublishOutcome) -> Completion? {
        settleOne(batch: batch, index: index, outcome: outcome)
    }

    mutating func ack(_ tag: UInt64, multiple: Bool) -> [Completion] {
        resolve(tag, multiple: multiple) { $0.returned ?? .confirmed }
    }

    mutating func nack(_ tag: UInt64, multiple: Bool) -> [Completion] {
        resolve(tag, multiple: multiple) { _ in .nacked }
    }

    /// Records a `basic.return`; the outcome is reported when the message's ack arrives.
    mutating func returned(exchange: String, routingKey: String, messageID: String?, replyCode: Int, replyText: String) {
        var sequence = lowestPending
        while sequence < nextSequence {
            if let entry = pending[sequence], entry.returned == nil, entry.exchange == exchange,
               entry.routingKey == routingKey, entry.messageID == messageID {
                pending[sequence]?.returned = .returned(replyCode: replyCode, replyText: replyText)
                return
            }
            sequence += 1
        }
    }

    /// Fails every unconfirmed message (the channel or connection is gone) and restarts numbering at 1.
    mutating func failAll(_ error: AMQPError) -> [Completion] {
        var completions: [Completion] = []
        for (_, entry) in pending.sorted(by: { $0.key < $1.key }) {
            if let done = settleOne(batch: entry.batch, index: entry.index, outcome: .unconfirmed(error)) {
                completions.append(done)
            }
        }
        pending.removeAll()
        nextSequence = 1
        lowestPending = 1
        return completions
    }

    private mutating func resolve(_ tag: UInt64, multiple: Bool, outcome: (Pending) -> PublishOutcome) -> [Completion] {
        var completions: [Completion] = []
        // A multiple ack below every pending sequence only covers messages already settled (expired).
        if multiple && tag < lowestPending { return [] }
        let range: ClosedRange<UInt64> = multiple ? lowestPending...tag : tag...tag
        for sequence in range {
            guard let entry = pending.removeValue(forKey: sequence) else { continue }
            if let done = settleOne(batch: entry.batch, index: entry.index, outcome: outcome(entry)) {
                completions.append(done)
            }
        }
        while lowestPending < nextSequence, pending[lowestPending] == nil { lowestPending += 1 }
        return completions
    }

    private mutating func settleOne(batch: BatchID, index: Int, outcome: PublishOutcome) -> Completion? {
        // Mutated in place: copying the batch out would copy its outcome array for every message.
        guard batches[batch] != nil, batches[batch]!.outcomes[index] == nil else { return nil }
        batches[batch]!.outcomes[index] = outcome
        batches[batch]!.remaining -= 1
        return batches[batch]!.remaining == 0 ? finish(batch) : nil
    }

    private mutating func finish(_ batch: BatchID) -> Completion? {
        guard let state = batches.removeValue(forKey: batch) else { return nil }
        return Completion(batch: batch, outcomes: state.outcomes.map { $0 ?? .nacked })
    }
}
