import AMQPClient
import Foundation
import RecoveryCore
import RedisClient
import Testing
@testable import Recovery

/// `scheduler dead list|retry|purge` against a real broker and Redis.
@Suite struct OperationsDeadLetterTests {
    /// Runs `body` with a declared topology of its own, a holding connection, a publisher and the store,
    /// then deletes the queues and the Redis keys of `endpointIds`.
    func withDeadQueue(_ purpose: String, endpointIds: [EndpointID] = [], _ body: (OperationsTopology, DeadLetterQueue, RedisPoolState) async throws -> Void) async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix(purpose))
        let declared = try await OperationsTopology.declare(configuration.topology, purpose: purpose)
        let holder = try await OperationsServers.amqp("ops-test-\(purpose)-holder")
        let publisher = try await OperationsServers.amqp("ops-test-\(purpose)-publisher")
        let redis = try await OperationsServers.redis()
        let store = RedisPoolState(redis: redis)
        let queue = DeadLetterQueue(
            connection: holder, bus: JobBus(connection: publisher, topology: configuration.topology), store: store,
            pendingTtl: .seconds(configuration.pendingTtlSeconds))
        func cleanUp() async {
            if !endpointIds.isEmpty {
                _ = try? await store.markers.unpark(endpointIds: endpointIds)
                try? await store.markers.clearPending(endpointIds: endpointIds)
            }
            await holder.close()
            await publisher.close()
            await redis.close()
            await declared.tearDown()
        }
        do {
            try await body(declared, queue, store)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    func park(_ store: RedisPoolState, _ endpointId: EndpointID) async throws {
        try await store.markers.park(ParkedEndpoint(endpointId: endpointId, reason: "HTTP 401 at the handshake", kind: .permanent, parkedAt: Date()))
    }

    static let diedAt = Date(timeIntervalSince1970: 1_795_000_000.25)

    @Test func listShowsReasonAttemptsAndErrorOfEveryDeadLetter() async throws {
        try await withDeadQueue("list") { declared, queue, _ in
            let permanent = operationsJob(attempt: 1)
            let exhausted = operationsJob(reason: .retry, attempt: 5)
            try await declared.publishDead(permanent, reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401 at the handshake"), at: Self.diedAt)
            try await declared.publishDead(exhausted, reason: .exhausted, error: JobError(kind: .transient, message: "connection refused"), at: Self.diedAt.addingTimeInterval(5))
            try await JobBus(connection: declared.connection, topology: declared.topology).publishDead(
                body: Array("not a job".utf8), messageId: "broken-1", endpointId: nil, reason: .malformed,
                error: JobError(kind: .permanent, message: "job is not JSON"), attempt: nil, at: Self.diedAt.addingTimeInterval(10))

            let letters = try await queue.list()

            #expect(letters.map(\.endpointId) == [permanent.endpointId, exhausted.endpointId, nil])
            #expect(letters.map(\.reason) == ["permanent", "exhausted", "malformed"])
            #expect(letters.map(\.attempts) == [1, 5, nil])
            #expect(letters.map(\.lastError) == ["HTTP 401 at the handshake", "connection refused", "job is not JSON"])
            #expect(letters.map(\.errorKind) == ["permanent", "transient", "permanent"])
            #expect(letters.map(\.diedAt) == [Self.diedAt, Self.diedAt.addingTimeInterval(5), Self.diedAt.addingTimeInterval(10)])
            #expect(letters[2].messageId == "broken-1")
            // The requeues are asynchronous: every letter is back in the queue shortly after.
            _ = try await operationsPoll { try await declared.ready(declared.topology.deadQueue) == 3 ? true : nil }
            let table = DeadLetterListing(letters: letters, takenAt: Date()).table()
            #expect(table.contains(permanent.endpointId.rawValue) && table.contains("connection refused"))
        }
    }

    @Test func listReadsLettersTheBrokerDeadLetteredAfterTheDeliveryLimit() async throws {
        let configuration = try OperationsServers.configuration(prefix: OperationsServers.uniquePrefix("limit"), extra: ["Queue:DeliveryLimit=0"])
        let declared = try await OperationsTopology.declare(configuration.topology, purpose: "limit")
        do {
            let job = operationsJob(attempt: 2)
            try await JobBus(connection: declared.connection, topology: configuration.topology).publish(job: job)
            let delivery = try #require(try await declared.connection.get(queue: configuration.topology.jobsQueue))
            try await declared.connection.nack(delivery, requeue: true)
            _ = try await operationsPoll { try await declared.ready(configuration.topology.deadQueue) == 1 ? true : nil }

            let letters = try await DeadLetterQueue(connection: declared.connection, topology: configuration.topology).list()

            let letter = try #require(letters.first)
            #expect(letters.count == 1)
            #expect(letter.endpointId == job.endpointId)
            #expect(letter.reason == "delivery_limit")
            #expect(letter.attempts == 2)
            #expect(letter.lastError == "dead-lettered by the broker from queue \(configuration.topology.jobsQueue)")
            #expect(letter.diedAt != nil)
        } catch {
            await declared.tearDown()
            throw error
        }
        await declared.tearDown()
    }

    @Test func retryMovesOnlyTheSelectedLettersBackAsManualJobsAndUnparksThem() async throws {
        let ids = (0..<3).map { _ in EndpointID(UUID().uuidString.lowercased()) }
        try await withDeadQueue("retry", endpointIds: ids) { declared, queue, store in
            var originals: [RecoveryJob] = []
            for id in ids {
                let job = operationsJob(id, reason: .retry, attempt: 5)
                originals.append(job)
                try await declared.publishDead(job, reason: .exhausted, error: JobError(kind: .transient, message: "refused"), at: Self.diedAt)
                try await park(store, id)
                _ = try await store.markers.markPending(endpointId: id, jobId: job.jobId, ttl: .seconds(600))
            }

            let report = try await queue.retry(.servers([ids[0], ids[1]]))

            #expect(report.retried == 2)
            #expect(report.remaining == 1)
            #expect(report.failed.isEmpty)
            let jobs = try await declared.drain(declared.topology.jobsQueue).map { try RecoveryJob.decode(Data($0.body)) }
            #expect(Set(jobs.map(\.endpointId)) == [ids[0], ids[1]])
            #expect(jobs.allSatisfy { $0.reason == .manual && $0.attempt == 1 })
            #expect(Set(jobs.map(\.jobId)).isDisjoint(with: originals.map(\.jobId)))
            #expect(Set(jobs.map(\.jobId)) == Set(report.jobs.map(\.jobId)))
            let parked = try await store.markers.parkedEndpoints()
            #expect(parked[ids[0]] == nil && parked[ids[1]] == nil)
            #expect(parked[ids[2]] != nil)
            for job in jobs {
                let marker = try await store.redis.get(RedisKeys.pending(job.endpointId)).map { String(decoding: $0, as: UTF8.self) }
                #expect(marker == job.jobId)
            }
            let left = try await queue.list()
            #expect(left.map(\.endpointId) == [ids[2]])
        }
    }

    @Test func retryHonoursTheLimitOldestFirst() async throws {
        let ids = (0..<3).map { _ in EndpointID(UUID().uuidString.lowercased()) }
        try await withDeadQueue("limit-retry", endpointIds: ids) { declared, queue, _ in
            for (index, id) in ids.enumerated() {
                try await declared.publishDead(operationsJob(id), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 404"), at: Self.diedAt.addingTimeInterval(Double(index)))
            }

            let report = try await queue.retry(.all, limit: 2)

            #expect(report.retried == 2)
            let jobs = try await declared.drain(declared.topology.jobsQueue).map { try RecoveryJob.decode(Data($0.body)) }
            #expect(jobs.map(\.endpointId).sorted() == [ids[0], ids[1]].sorted())
            #expect(try await queue.list().map(\.endpointId) == [ids[2]])
        }
    }

    @Test func retryLeavesMalformedLettersInPlace() async throws {
        let id = EndpointID(UUID().uuidString.lowercased())
        try await withDeadQueue("malformed-retry", endpointIds: [id]) { declared, queue, _ in
            try await declared.publishDead(operationsJob(id), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 403"), at: Self.diedAt)
            try await JobBus(connection: declared.connection, topology: declared.topology).publishDead(
                body: Array("{".utf8), messageId: nil, endpointId: nil, reason: .malformed, error: nil, attempt: nil, at: Self.diedAt)

            let report = try await queue.retry(.all)

            #expect(report.retried == 1)
            #expect(report.skippedWithoutEndpoint == 1)
            #expect(try await declared.drain(declared.topology.jobsQueue).count == 1)
            let left = try await queue.list()
            #expect(left.count == 1 && left[0].endpointId == nil && left[0].reason == "malformed")
        }
    }

    @Test func purgeRemovesOnlyTheSelectedLetters() async throws {
        let ids = (0..<2).map { _ in EndpointID(UUID().uuidString.lowercased()) }
        try await withDeadQueue("purge") { declared, queue, _ in
            try await declared.publishDead(operationsJob(ids[0]), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401"), at: Self.diedAt)
            try await declared.publishDead(operationsJob(ids[1]), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401"), at: Self.diedAt)
            try await declared.publishDead(operationsJob(ids[0], attempt: 3), reason: .exhausted, error: JobError(kind: .transient, message: "reset"), at: Self.diedAt)
            try await JobBus(connection: declared.connection, topology: declared.topology).publishDead(
                body: Array("garbage".utf8), messageId: nil, endpointId: nil, reason: .malformed, error: nil, attempt: nil, at: Self.diedAt)

            let report = try await queue.purge(.servers([ids[0]]))

            #expect(report.purged == 2)
            #expect(report.remaining == 2)
            let left = try await queue.list()
            #expect(left.map(\.endpointId) == [ids[1], nil])
            #expect(try await declared.ready(declared.topology.jobsQueue) == 0)

            let all = try await queue.purge(.all)
            #expect(all.purged == 2)
            #expect(try await queue.list().isEmpty)
        }
    }

    @Test func anUnconfirmedRetryKeepsTheLetterAndRestoresThePark() async throws {
        let id = EndpointID(UUID().uuidString.lowercased())
        try await withDeadQueue("unroutable", endpointIds: [id]) { declared, queue, store in
            try await declared.publishDead(operationsJob(id), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401"), at: Self.diedAt)
            try await park(store, id)
            // Without the jobs queue, the broker returns the new job as unroutable.
            _ = try await declared.connection.deleteQueue(declared.topology.jobsQueue)

            let report = try await queue.retry(.all)

            #expect(report.retried == 0)
            #expect(report.failed.keys.sorted() == [id])
            #expect(report.remaining == 1)
            #expect(try await queue.list().map(\.endpointId) == [id])
            #expect(try await store.markers.parkedEndpoints()[id]?.reason == "HTTP 401 at the handshake")
            #expect(try await store.redis.get(RedisKeys.pending(id)) == nil)
        }
    }

    @Test func aCrashWhileLettersAreHeldLosesNone() async throws {
        let ids = (0..<3).map { _ in EndpointID(UUID().uuidString.lowercased()) }
        try await withDeadQueue("crash") { declared, _, _ in
            for id in ids {
                try await declared.publishDead(operationsJob(id), reason: .permanent, error: JobError(kind: .permanent, message: "HTTP 401"), at: Self.diedAt)
            }
            let crashing = try await OperationsServers.amqp("ops-test-crash")
            let held = try await DeadLetterQueue(connection: crashing, topology: declared.topology).fetchAll()
            #expect(held.count == 3)

            await crashing.abort()

            let letters = try await operationsPoll {
                let letters = try await DeadLetterQueue(connection: declared.connection, topology: declared.topology).list()
                return letters.count == 3 ? letters : nil
            }
            #expect(Set(letters.compactMap(\.endpointId)) == Set(ids))
        }
    }
}
