import AMQPClient
import Foundation
import RecoveryCore
import Testing
@testable import Recovery

/// Faults under a running pool, each judged from Xiaozhi's side (the simulator): a second session with the
/// same token evicts the first, so evictions count duplicates. Every scenario prints one `fault …` line of
/// figures (`FaultFigures`); its size comes from `XZ_FAULT_ENDPOINTS` and `XZ_FAULT_WORKERS`.
/// An outage suite: the last scenario restarts Redis and Postgres.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FaultScenarioOutageTests {
    static let leaseTTL = FaultScenario.leaseTTL
    /// How long the pool is watched after a fault ends: two lease TTLs, time for any late takeover to land.
    static let afterWindow = FaultScenario.leaseTTL * 2

    // MARK: 1. a frozen worker

    @Test func aFrozenWorkerLosesItsSessionsOnlyAfterItsLeasesLapseAndStandsDownWhenItResumes() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster { cluster in
            var figures = FaultFigures(name: "worker-sigstop", endpoints: count, workers: workerCount)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            // The worker to freeze takes every endpoint before the others start, so the freeze hits them all.
            let frozen = try cluster.startWorker()
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")
            for _ in 1..<workerCount { try cluster.startWorker() }
            try await Task.sleep(for: .seconds(2))
            #expect(await FaultScenario.evictions(cluster) == 0, "\(cluster.logs)")
            let frozenInstances = Set(try await cluster.connectedStates().values.map(\.instanceId))

            frozen.send(SIGSTOP)
            let frozenAt = ContinuousClock.now
            var resumed = false
            defer { if !resumed { frozen.send(SIGCONT) } }
            // Read after the freeze: no lease of the frozen worker can lapse before this moment.
            let leaseLeft = try await FaultScenario.leaseMillisecondsLeft(cluster, 1...count)
            let earliestLapse = frozenAt + .milliseconds(leaseLeft.min() ?? 0)
            var beforeLapse = 0
            let freezeEnd = frozenAt + Self.leaseTTL * 3
            while ContinuousClock.now < freezeEnd {
                let seenAt = ContinuousClock.now
                if let seen = await FaultScenario.evictions(cluster) {
                    figures.evictionsDuring = max(figures.evictionsDuring, seen)
                    // Read before the earliest lapse, so every eviction it counts took a session whose lease was held.
                    if seenAt < earliestLapse { beforeLapse = max(beforeLapse, seen) }
                }
                if figures.allBackSeconds == nil, try await Self.allHeldElsewhere(cluster, count, awayFrom: frozenInstances) {
                    figures.allBackSeconds = FaultScenario.seconds(ContinuousClock.now - frozenAt)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let atResume = await FaultScenario.watchEvictions(cluster, for: .zero)
            figures.evictionsDuring = max(figures.evictionsDuring, atResume)
            frozen.send(SIGCONT)
            resumed = true

            // Resumed: its leases are gone, so it closes what it still has instead of reconnecting over the new holders.
            figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - atResume
            let backAfterResume = try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count))
            if figures.allBackSeconds == nil, backAfterResume {
                figures.allBackSeconds = FaultScenario.seconds(ContinuousClock.now - frozenAt)
            }
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [
                ("lease_ms_left_at_freeze", "\(leaseLeft.min() ?? 0)-\(leaseLeft.max() ?? 0)"),
                ("evictions_before_lapse", "\(beforeLapse)"),
            ]
            figures.report()

            #expect(beforeLapse == 0, "a session of the frozen worker was evicted while its lease was held:\n\(cluster.logs)")
            #expect(figures.evictionsAfter == 0, "evictions after the frozen worker resumed:\n\(cluster.logs)")
            #expect(backAfterResume && figures.neverBack == 0, "endpoints not back after the freeze:\n\(cluster.logs)")
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }

    /// Whether every endpoint has a connected state written by a worker other than `frozen` and the
    /// simulator holds exactly `count` sessions (the frozen worker's ones were replaced, not added to).
    static func allHeldElsewhere(_ cluster: PoolCluster, _ count: Int, awayFrom frozen: Set<String>) async throws -> Bool {
        guard let states = try? await cluster.connectedStates(), states.count == count,
              states.values.allSatisfy({ !frozen.contains($0.instanceId) }) else { return false }
        return (try? await cluster.simulatorStatus().connectedCount) == count
    }

    // MARK: 1b. a log reader that stops reading

    /// A worker whose log nobody reads (a paused log shipper, a full pipe) connects and holds its sessions
    /// all the same, and the lines it logged meanwhile reach the reader once it reads again. The pipe is
    /// full before the worker starts, so a worker that wrote its lines on the threads that log would stop
    /// at its first line.
    @Test func aWorkerWhoseLogReaderStopsReadingKeepsConnectingAndHoldingItsSessions() async throws {
        let count = FaultScenario.endpoints
        try await FaultScenario.withCluster { cluster in
            let logPipe = Pipe()
            let filler = try Self.fill(logPipe.fileHandleForWriting.fileDescriptor)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            let worker = try cluster.startWorker(output: logPipe.fileHandleForWriting)
            try logPipe.fileHandleForWriting.close()

            let connected = try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count))
            #expect(connected, "a worker whose log reader stopped did not connect its endpoints:\n\(cluster.logs)")
            let holders = Set(try await cluster.connectedStates().values.map(\.instanceId))
            // Two lease TTLs: every lease renewed by the same worker, no session replaced.
            let evictions = await FaultScenario.watchEvictions(cluster, for: Self.leaseTTL * 2)
            let held = try await cluster.connectedStates()
            #expect(evictions == 0, "\(cluster.logs)")
            #expect(holders.count == 1 && held.count == count && Set(held.values.map(\.instanceId)) == holders,
                    "sessions changed hands while the log reader was stuck:\n\(cluster.logs)")

            // Reading again: the filler, then the worker's lines, every endpoint's acquire among them.
            let reader = PipeCollector(reading: logPipe.fileHandleForReading.fileDescriptor)
            let acquires = (1...count).map { "Acquired distributed lock for server \(PoolCluster.endpointId($0))" }
            let allLogged = await eventually(timeout: .seconds(30)) {
                let text = reader.text
                return text.utf8.count > filler && acquires.allSatisfy { text.contains($0) }
            }
            let logged = reader.text
            #expect(allLogged, "lines missing once the log was read again:\n\(logged.utf8.count - filler) bytes after the filler")
            let started = logged.contains("worker started"), dropped = logged.contains("log lines dropped")
            #expect(started)
            #expect(!dropped, "lines dropped below the backlog's bound")
            // The pipe is read to its end before it closes: a descriptor closed under the reading thread
            // could be reused by another connection of this process.
            await worker.stop(grace: .seconds(15))
            _ = reader.bytesAtEnd()
        }
    }

    /// Fills the pipe that `descriptor` writes to, so the next write blocks; returns the bytes written.
    static func fill(_ descriptor: Int32) throws -> Int {
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(descriptor, F_SETFL, flags) }
        var total = 0
        // Large writes first; a pipe refuses a write of up to 4 KiB that does not fit whole, so single bytes last.
        for size in [4_096, 1] {
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            while true {
                let written = write(descriptor, chunk, size)
                if written > 0 {
                    total += written
                } else if errno == EAGAIN {
                    break
                } else {
                    throw HarnessError("filling the log pipe failed: errno \(errno)")
                }
            }
        }
        return total
    }

    // MARK: 2. a handshake slower than the lease

    /// The slow handshake outlasts the worker's connect timeout: every attempt fails transiently and is
    /// retried. Enough attempts are allowed that the retry ladder still runs when the delay is cleared, so
    /// coming back is the retry's doing, not an operator's.
    @Test func aHandshakeSlowerThanTheLeaseIsRetriedWithoutASecondSessionAndComesBackOnceFast() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster(settings: ["Retry__MaxAttempts": "20"]) { cluster in
            var figures = FaultFigures(name: "slow-handshake", endpoints: count, workers: workerCount)
            // One slow token: the simulator holds each of its handshakes' answers on a timer (other
            // handshakes go on); a client that gave up before the answer is never admitted.
            let slow = [1]
            let slowIds = slow.map { SimulatorTokens.tokenId(endpoint: $0) }
            try await cluster.startSimulator()
            try await cluster.setFaults(SimulatorTokens.faultsBody(slowIds, #"{"handshakeDelayMilliseconds": \#(Self.slowHandshakeMilliseconds)}"#))
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            let started = ContinuousClock.now
            for _ in 0..<workerCount { try cluster.startWorker() }
            // Watched for 30 s from the start: several connect attempts of the slow token; how many other
            // endpoints were up is reported, not asserted.
            figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: .seconds(30) - (ContinuousClock.now - started))
            let whileSlow = try await cluster.simulatorTokenStatus()

            try await cluster.setFaults(SimulatorTokens.clearTokenFaults)
            let clearedAt = ContinuousClock.now
            figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count, since: clearedAt, timeout: FaultScenario.connectTimeout(count))
            let atBack = await FaultScenario.watchEvictions(cluster, for: .zero)
            figures.evictionsDuring = max(figures.evictionsDuring, atBack)
            figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - atBack
            let end = try await cluster.simulatorTokenStatus()
            let states = try await cluster.connectedStates()
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [
                ("handshake_ms", "\(Self.slowHandshakeMilliseconds)"),
                ("slow_tokens", "\(slow.count)"),
                ("slow_connects_30s", slowIds.map { "\(whileSlow.connectsByTokenId[$0] ?? 0)" }.joined(separator: ",")),
                ("slow_connected_while_slow", "\(slowIds.filter(whileSlow.connectedTokenIds.contains).count)"),
                ("others_connected_while_slow", "\(whileSlow.connectedTokenIds.filter { !slowIds.contains($0) }.count)"),
                ("slow_connects_total", slowIds.map { "\(end.connectsByTokenId[$0] ?? 0)" }.joined(separator: ",")),
                ("evictions_slow_tokens", "\(end.evictions(of: slowIds))"),
                ("evictions_other_tokens", "\(end.evictions - end.evictions(of: slowIds))"),
                ("evictions_of_open_sessions", "\(FaultScenario.evictionsOfOpenSessions(cluster))"),
            ]
            figures.report()

            #expect(figures.evictionsDuring == 0, "sessions evicted by a duplicate while the handshake was slow:\n\(cluster.logs)")
            #expect(figures.evictionsAfter == 0, "sessions evicted by a duplicate after the handshake was fast again:\n\(cluster.logs)")
            #expect(whileSlow.duplicatedTokenIds.isEmpty && end.duplicatedTokenIds.isEmpty)
            #expect(end.connectedCount == count && states.count == count, "sessions \(end.connectedCount), connected states \(states.count)")
            #expect(figures.allBackSeconds != nil && figures.neverBack == 0, "endpoints not back after the delay was cleared:\n\(cluster.logs)")
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }

    /// The slow handshake completes within the connect timeout but outlasts two lease TTLs: the lease must
    /// be kept while it connects, so no second worker opens a session meanwhile.
    @Test func aHandshakeLongerThanTwoLeasesCompletesUnderOneLease() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster(settings: ["Worker__ConnectTimeoutSeconds": "15"]) { cluster in
            var figures = FaultFigures(name: "slow-handshake-completes", endpoints: count, workers: workerCount)
            // One slow token: the simulator holds each of its handshakes' answers on a timer (other
            // handshakes go on); a client that gave up before the answer is never admitted.
            let slow = [1]
            let slowIds = slow.map { SimulatorTokens.tokenId(endpoint: $0) }
            try await cluster.startSimulator()
            try await cluster.setFaults(SimulatorTokens.faultsBody(slowIds, #"{"handshakeDelayMilliseconds": \#(Self.slowHandshakeMilliseconds)}"#))
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            let started = ContinuousClock.now
            for _ in 0..<workerCount { try cluster.startWorker() }
            figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count, since: started, timeout: FaultScenario.connectTimeout(count))
            let atBack = await FaultScenario.watchEvictions(cluster, for: .zero)
            figures.evictionsDuring = atBack
            figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - atBack
            let end = try await cluster.simulatorTokenStatus()
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [
                ("handshake_ms", "\(Self.slowHandshakeMilliseconds)"),
                ("slow_tokens", "\(slow.count)"),
                ("slow_connects", slowIds.map { "\(end.connectsByTokenId[$0] ?? 0)" }.joined(separator: ",")),
            ]
            figures.report()

            #expect(figures.evictionsDuring == 0 && figures.evictionsAfter == 0, "sessions evicted by a duplicate:\n\(cluster.logs)")
            #expect(end.duplicatedTokenIds.isEmpty)
            #expect(figures.allBackSeconds != nil && figures.neverBack == 0, "endpoints not connected:\n\(cluster.logs)")
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }

    /// Twice the lease TTL.
    static let slowHandshakeMilliseconds = 8_000

    // MARK: 3. closed with 1008 right after opening

    @Test func anEndpointClosedWith1008AfterOpeningIsParkedAfterFewConnectsAndTheOthersCarryOn() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster { cluster in
            var figures = FaultFigures(name: "close-1008-after-open", endpoints: count, workers: workerCount)
            let rejected = [1, 2]
            let rejectedIds = rejected.map { SimulatorTokens.tokenId(endpoint: $0) }
            let rejectedServers = rejected.map(PoolCluster.endpointId).sorted()
            try await cluster.startSimulator()
            try await cluster.setFaults(SimulatorTokens.faultsBody(rejectedIds, #"{"closeAfterOpen": {"code": 1008, "reason": "token revoked"}}"#))
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            let started = ContinuousClock.now
            for _ in 0..<workerCount { try cluster.startWorker() }
            figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count - rejected.count, since: started, timeout: FaultScenario.connectTimeout(count))
            let parked = try await eventually(timeout: .seconds(40)) {
                try await cluster.store.markers.parkedEndpoints().keys.sorted() == rejectedServers
            }
            figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: .zero)
            let atPark = try await cluster.simulatorTokenStatus()
            // Parked: several check intervals later, no further connect for those tokens.
            figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - figures.evictionsDuring
            let end = try await cluster.simulatorTokenStatus()
            let parks = try await cluster.store.markers.parkedEndpoints()
            let listing = try await cluster.schedulerCommand(["dead", "list", "--json"])
            figures.neverBack = try await FaultScenario.notConnected(cluster, (rejected.max()! + 1)...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [
                ("rejected_tokens", "\(rejected.count)"),
                ("rejected_connects", rejectedIds.map { "\(end.connectsByTokenId[$0] ?? 0)" }.joined(separator: ",")),
                ("rejected_connects_after_park", "\(end.connects(of: rejectedIds) - atPark.connects(of: rejectedIds))"),
                ("parked", "\(parks.count)"),
            ]
            figures.report()

            #expect(parked, "parked: \(parks.keys.sorted()), expected \(rejectedServers):\n\(cluster.logs)")
            for server in rejectedServers {
                #expect(parks[server]?.kind == .permanent, "park of \(server): \(String(describing: parks[server]))")
                #expect(listing.output.components(separatedBy: server.rawValue).count - 1 == 1, "dead letters of \(server):\n\(listing.output)")
            }
            #expect(listing.status == 0, "\(listing.output)")
            // A close with 1008 is permanent: one attempt each, and never more than one per retry step.
            for tokenId in rejectedIds {
                let connects = end.connectsByTokenId[tokenId] ?? 0
                #expect((1...Self.maxAttempts).contains(connects), "connects of a rejected token: \(connects)\n\(cluster.logs)")
            }
            #expect(end.connects(of: rejectedIds) == atPark.connects(of: rejectedIds), "a parked endpoint was connected again:\n\(cluster.logs)")
            #expect(figures.evictionsDuring == 0 && figures.evictionsAfter == 0, "sessions evicted by a duplicate:\n\(cluster.logs)")
            #expect(figures.allBackSeconds != nil && figures.neverBack == 0, "healthy endpoints not connected:\n\(cluster.logs)")
            #expect(end.connectedCount == count - rejected.count)
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }

    /// `Retry:MaxAttempts` of `PoolCluster.fastSettings`.
    static let maxAttempts = 4

    // MARK: 4. every worker full

    @Test func fullWorkersLeaveTheRestQueuedWithoutDeadLettersUntilAWorkerWithRoomJoins() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster { cluster in
            // Half the endpoints fit: the other half waits for room.
            let slots = max(1, count / (2 * workerCount))
            let capacity = slots * workerCount
            var figures = FaultFigures(name: "workers-full", endpoints: count, workers: workerCount)
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            for _ in 0..<workerCount { try cluster.startWorker(maxSessions: slots) }
            let filled = try await cluster.waitUntilConnected(capacity, timeout: FaultScenario.connectTimeout(capacity))
            #expect(filled, "the workers did not fill their \(capacity) slots:\n\(cluster.logs)")

            // Full for five lease TTLs (ten check intervals): more than enough deliveries to reach the
            // broker's delivery limit if a job given back counted as a failed delivery.
            let topology = cluster.configuration.topology
            figures.evictionsDuring = await FaultScenario.watchEvictions(cluster, for: Self.leaseTTL * 5)
            let whileFull = try await cluster.simulatorTokenStatus()
            let statesWhileFull = try await cluster.connectedStates().count
            let deadWhileFull = try await cluster.amqp.inspectQueue(topology.deadQueue).messageCount
            let queuedWhileFull = try await cluster.amqp.inspectQueue(topology.jobsQueue).messageCount
            let parkedWhileFull = try await cluster.store.markers.parkedEndpoints()

            let joinedAt = ContinuousClock.now
            try cluster.startWorker(maxSessions: count)
            figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count, since: joinedAt, timeout: FaultScenario.connectTimeout(count))
            let atBack = await FaultScenario.watchEvictions(cluster, for: .zero)
            figures.evictionsDuring = max(figures.evictionsDuring, atBack)
            figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - atBack
            let deadAtEnd = try await cluster.amqp.inspectQueue(topology.deadQueue).messageCount
            figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
            figures.alive = FaultScenario.processesAlive(cluster)
            figures.extra = [
                ("slots_per_worker", "\(slots)"),
                ("capacity", "\(capacity)"),
                ("connected_while_full", "\(whileFull.connectedCount)"),
                ("jobs_queued_while_full", "\(queuedWhileFull)"),
                ("dead_letters", "\(deadAtEnd)"),
            ]
            figures.report()

            let deadListing = deadAtEnd > 0 || deadWhileFull > 0 ? (try await cluster.schedulerCommand(["dead", "list"])).output : ""
            #expect(whileFull.connectedCount == capacity && statesWhileFull == capacity, "sessions \(whileFull.connectedCount), connected states \(statesWhileFull), capacity \(capacity)")
            #expect(deadWhileFull == 0 && deadAtEnd == 0, "jobs dead-lettered while the workers were full:\n\(deadListing)\n\(cluster.logs)")
            #expect(parkedWhileFull.isEmpty, "endpoints parked while the workers were full: \(parkedWhileFull.keys.sorted())")
            #expect(figures.evictionsDuring == 0 && figures.evictionsAfter == 0, "sessions evicted by a duplicate:\n\(cluster.logs)")
            #expect(figures.allBackSeconds != nil && figures.neverBack == 0, "endpoints not connected after a worker with room joined:\n\(cluster.logs)")
            #expect(figures.alive, "\(FaultScenario.exited(cluster))")
        }
    }

    // MARK: 5. RabbitMQ, Redis and Postgres restarted

    @Test func rabbitMQRestartedRedisRestartedOrDownForTwoLeasesAndPostgresRestartedCauseNoDuplicate() async throws {
        let count = FaultScenario.endpoints
        let workerCount = FaultScenario.workers
        try await FaultScenario.withCluster { cluster in
            try await cluster.startSimulator()
            try await cluster.seedEndpoints(count)
            try cluster.startScheduler()
            for _ in 0..<workerCount { try cluster.startWorker() }
            #expect(try await cluster.waitUntilConnected(count, timeout: FaultScenario.connectTimeout(count)), "\(cluster.logs)")
            try await Task.sleep(for: .seconds(2))
            #expect(await FaultScenario.evictions(cluster) == 0, "\(cluster.logs)")

            // A RabbitMQ restart first: the Redis faults after it need jobs, so every process must have
            // reconnected and restored its consumers.
            // Redis runs without persistence (scripts/services.sh): a restart loses every lease and state.
            // The second Redis fault keeps it down for two lease TTLs, so no renewal can be confirmed and
            // every holder must close its sessions before the pool recovers them.
            let faults: [(name: String, inject: () async throws -> Void)] = [
                ("rabbitmq-restart", { try ServerControl.run("restart", "rabbitmq") }),
                ("redis-restart", { try ServerControl.run("restart", "redis") }),
                ("redis-down-\(Int(FaultScenario.seconds(Self.leaseTTL * 2)))s", {
                    try ServerControl.run("stop-one", "redis")
                    try await Task.sleep(for: Self.leaseTTL * 2)
                    try ServerControl.run("start-one", "redis")
                }),
                ("postgres-restart", { try ServerControl.run("restart", "postgres") }),
            ]
            var results: [FaultFigures] = []
            for fault in faults {
                var figures = FaultFigures(name: fault.name, endpoints: count, workers: workerCount)
                let before = await FaultScenario.watchEvictions(cluster, for: .zero)
                let faultAt = ContinuousClock.now
                try await fault.inject()
                figures.allBackSeconds = try await FaultScenario.secondsUntilConnected(cluster, count, since: faultAt, timeout: FaultScenario.connectTimeout(count))
                let atBack = await FaultScenario.watchEvictions(cluster, for: .zero)
                figures.evictionsDuring = atBack - before
                figures.evictionsAfter = await FaultScenario.watchEvictions(cluster, for: Self.afterWindow) - atBack
                figures.neverBack = try await FaultScenario.notConnected(cluster, 1...count).count
                figures.alive = FaultScenario.processesAlive(cluster)
                let status = try await cluster.simulatorTokenStatus()
                // Sessions opened since the simulator started: more than the endpoints means some were reopened.
                figures.extra = [("connects_total", "\(status.connectsByTokenId.values.reduce(0, +))")]
                figures.report()
                results.append(figures)
            }

            for figures in results {
                #expect(figures.evictionsDuring == 0, "\(figures.name): sessions evicted by a duplicate during the restart:\n\(cluster.logs)")
                #expect(figures.evictionsAfter == 0, "\(figures.name): sessions evicted by a duplicate after the restart:\n\(cluster.logs)")
                #expect(figures.allBackSeconds != nil && figures.neverBack == 0, "\(figures.name): endpoints not back:\n\(cluster.logs)")
                #expect(figures.alive, "\(figures.name): \(FaultScenario.exited(cluster))")
            }
        }
    }
}
