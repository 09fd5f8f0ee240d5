import AMQPClient
import Foundation
import RecoveryCore

/// The operator's hands on the dead-letter queue: list, retry and purge.
///
/// Every operation takes the whole queue with `basic.get`, holding the deliveries unacknowledged on one
/// channel, acknowledges only the letters it has settled and requeues the rest in the order it took
/// them (a quorum queue appends requeued messages at its tail, so requeueing all keeps their order). If the process dies
/// half way the broker requeues whatever was held, so no letter is ever lost; a retried letter is
/// acknowledged only after its new job's publish is confirmed, so at worst a job is duplicated (which
/// the endpoint's lease makes harmless).
public struct DeadLetterQueue: Sendable {
    /// The connection whose channel holds the fetched deliveries (not the publishing one).
    public let connection: AMQPConnection
    /// Publishes the jobs of `retry` (on a connection of its own).
    public let bus: JobBus?
    public let store: RedisPoolState?
    /// The pending marker's lifetime for a retried endpoint (`Recovery:PendingTtlSeconds`).
    public let pendingTtl: Duration
    /// At most this many letters are taken in one operation.
    public let maxMessages: Int

    public let topology: Topology

    /// For `list` and `purge`, which need neither a publisher nor Redis.
    public init(connection: AMQPConnection, topology: Topology, maxMessages: Int = 100_000) {
        self.connection = connection
        self.bus = nil
        self.store = nil
        self.pendingTtl = .seconds(600)
        self.maxMessages = maxMessages
        self.topology = topology
    }

    /// For every operation, `retry` included.
    public init(connection: AMQPConnection, bus: JobBus, store: RedisPoolState, pendingTtl: Duration, maxMessages: Int = 100_000) {
        self.connection = connection
        self.bus = bus
        self.store = store
        self.pendingTtl = pendingTtl
        self.maxMessages = maxMessages
        self.topology = bus.topology
    }

    /// A fetched, still unacknowledged dead letter.
    struct HeldLetter: Sendable {
        var delivery: AMQPDelivery
        var letter: DeadLetter
    }

    // MARK: operations

    /// Every dead letter, oldest first (by when it died; unknown times last); all stay in the queue.
    public func list() async throws -> [DeadLetter] {
        let held = try await fetchAll()
        await requeue(held)
        return Self.oldestFirst(held).map(\.letter)
    }

    /// Drops the selected dead letters; the others stay.
    public func purge(_ selection: DeadLetterSelection) async throws -> DeadLetterPurgeReport {
        let held = try await fetchAll()
        var purged = 0
        var kept: [HeldLetter] = []
        var failed = 0
        for entry in held {
            guard selection.matches(entry.letter) else {
                kept.append(entry)
                continue
            }
            if await acknowledge(entry) { purged += 1 } else { failed += 1 }
        }
        await requeue(kept)
        return DeadLetterPurgeReport(purged: purged, notRemoved: failed, remaining: kept.count + failed)
    }

    /// Moves the selected dead letters (at most `limit`, oldest first) back to the jobs queue: one new
    /// job per endpoint (reason `manual`, attempt 1, a new job id), its endpoint unparked and its pending
    /// marker set to the new job, the job's publish confirmed, and only then its letters acknowledged.
    /// Letters without an endpoint id cannot be retried and stay.
    public func retry(_ selection: DeadLetterSelection, limit: Int? = nil, now: Date = Date()) async throws -> DeadLetterRetryReport {
        guard let bus, let store else { throw DeadLetterQueueError.retryNeedsPublisher }
        let held = try await fetchAll()
        var report = DeadLetterRetryReport()
        var chosen: [HeldLetter] = []
        var kept: [HeldLetter] = []
        for entry in Self.oldestFirst(held) {
            guard selection.matches(entry.letter) else {
                kept.append(entry)
                continue
            }
            if !entry.letter.isRetryable {
                report.skippedWithoutEndpoint += 1
                kept.append(entry)
            } else if let limit, chosen.count >= limit {
                kept.append(entry)
            } else {
                chosen.append(entry)
            }
        }
        var endpoints: [EndpointID] = []
        var lettersByEndpoint: [EndpointID: [HeldLetter]] = [:]
        for entry in chosen {
            let id = entry.letter.endpointId!
            if lettersByEndpoint[id] == nil { endpoints.append(id) }
            lettersByEndpoint[id, default: []].append(entry)
        }
        guard !endpoints.isEmpty else {
            await requeue(held)
            report.remaining = held.count
            return report
        }
        let jobs = endpoints.map { RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: $0, reason: .manual, attempt: 1, enqueuedAt: now) }

        // Unpark and mark pending before the publish, so a worker that settles the job at once finds
        // (and clears) the new marker, and a park it writes is not erased afterwards.
        let previousParks: [EndpointID: String]
        do {
            previousParks = try await store.operatorView.prepareManualRetry(jobs: jobs, pendingTtl: pendingTtl)
        } catch {
            await requeue(held)
            throw error
        }
        let outcomes: [PublishOutcome]
        do {
            outcomes = try await bus.publish(jobs: jobs)
        } catch {
            outcomes = jobs.map { _ in PublishOutcome.unconfirmed(error as? AMQPError ?? .invalidArgument("\(error)")) }
        }
        var undone: [RecoveryJob] = []
        for (job, outcome) in zip(jobs, outcomes) {
            let letters = lettersByEndpoint[job.endpointId] ?? []
            do {
                try JobBus.require(outcome, what: "manual job \(job.jobId) for server \(job.endpointId)")
            } catch {
                report.failed[job.endpointId] = "\(error)"
                undone.append(job)
                kept.append(contentsOf: letters)
                continue
            }
            report.jobs.append(job)
            for entry in letters {
                if await acknowledge(entry) { report.retried += 1 } else { report.notRemoved += 1 }
            }
        }
        if !undone.isEmpty {
            try? await store.operatorView.undoManualRetry(jobs: undone, previousParks: previousParks)
        }
        await requeue(kept)
        report.remaining = kept.count + report.notRemoved
        return report
    }

    // MARK: holding deliveries

    /// Takes every message of the dead queue, unacknowledged; on failure requeues what it took.
    func fetchAll() async throws -> [HeldLetter] {
        var held: [HeldLetter] = []
        do {
            while held.count < maxMessages, let delivery = try await connection.get(queue: topology.deadQueue) {
                held.append(HeldLetter(delivery: delivery, letter: DeadLetter(delivery)))
            }
        } catch {
            await requeue(held)
            throw error
        }
        return held
    }

    /// Returns letters to the queue (best effort: on a lost connection the broker has done it already).
    func requeue(_ held: [HeldLetter]) async {
        for entry in held {
            _ = try? await connection.nack(entry.delivery, requeue: true)
        }
    }

    /// `held` sorted by when each letter died, unknown times last, ties in queue order.
    static func oldestFirst(_ held: [HeldLetter]) -> [HeldLetter] {
        held.enumerated().sorted { left, right in
            switch (left.element.letter.diedAt, right.element.letter.diedAt) {
            case let (l?, r?) where l != r: return l < r
            case (_?, nil): return true
            case (nil, _?): return false
            default: return left.offset < right.offset
            }
        }.map(\.element)
    }

    /// Removes one letter; false when the ack could not reach the broker (the letter stays queued).
    func acknowledge(_ entry: HeldLetter) async -> Bool {
        (try? await connection.ack(entry.delivery)) == .sent
    }
}

/// What `DeadLetterQueue.retry` did.
public struct DeadLetterRetryReport: Sendable, Equatable {
    /// Dead letters removed after their endpoint's new job was confirmed.
    public var retried = 0
    /// The new jobs, one per endpoint, in the order of the letters.
    public var jobs: [RecoveryJob] = []
    /// Endpoints whose job the broker did not confirm (their letters stay), and why.
    public var failed: [EndpointID: String] = [:]
    /// Letters whose job was published but whose removal failed: they stay (a later retry duplicates the job).
    public var notRemoved = 0
    /// Selected letters without an endpoint id (malformed), which stay.
    public var skippedWithoutEndpoint = 0
    /// Letters left in the dead queue.
    public var remaining = 0

    public init() {}
}

/// What `DeadLetterQueue.purge` did.
public struct DeadLetterPurgeReport: Sendable, Equatable {
    public var purged: Int
    /// Selected letters whose removal failed (they stay).
    public var notRemoved: Int
    /// Letters left in the dead queue.
    public var remaining: Int

    public init(purged: Int, notRemoved: Int, remaining: Int) {
        self.purged = purged
        self.notRemoved = notRemoved
        self.remaining = remaining
    }
}

/// A dead-letter operation that cannot run as asked.
public enum DeadLetterQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    case retryNeedsPublisher

    public var description: String {
        switch self {
        case .retryNeedsPublisher: return "dead retry needs a job publisher and the Redis state store"
        }
    }
}
