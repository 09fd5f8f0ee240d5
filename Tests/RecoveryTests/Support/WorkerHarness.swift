import AMQPClient
import Foundation
import Logging
import MCP
@testable import RecoveryCore
import ServiceLifecycle
import Synchronization
import Testing
import Transport
import WebSocket
@testable import Recovery

/// One worker's runtime in this process, over in-memory stores on a clock the test moves, an in-memory
/// table, an in-memory broker and an opener the test can hold or fail, in front of an in-process Xiaozhi
/// peer: the worker's rules (SPEC §7) without a Redis, Postgres or RabbitMQ server.
final class WorkerHarness: Sendable {
    let clock = ManualClock()
    let keyspace: InMemoryKeyspace
    let pool: InMemoryPoolState
    let faults = StoreFaults()
    let directory = InMemoryEndpointDirectory()
    let inbox = InMemoryInbox()
    let bus = RecordingWorkerBus()
    let peer: XiaozhiPeer
    let opener: HeldOpener
    let configuration: PoolConfiguration
    let runtime: WorkerRuntime
    private let host: SessionHost
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    static let instanceId = "worker-under-test"

    init(settings: [String: String] = [:]) async throws {
        let clock = clock
        keyspace = InMemoryKeyspace(clock: { clock.now() })
        pool = InMemoryPoolState(keyspace: keyspace)
        host = try SessionHost(threads: 1)
        peer = try XiaozhiPeer(host: host)
        opener = HeldOpener(host: host)
        let defaults = [
            "Recovery__LeaseTtlSeconds": "3", "Worker__MaxSessions": "4", "Worker__ConnectTimeoutSeconds": "10",
            "Recovery__ShutdownGraceSeconds": "5", "Worker__InstanceId": Self.instanceId,
        ]
        configuration = try ConfigurationLoader.load(fileContents: nil, environment: defaults.merging(settings) { $1 }, overrides: [])
        let stores = pool.stores
        let faulty = PoolStores(
            leases: FaultyLeases(base: stores.leases, faults: faults), states: FaultyStates(base: stores.states, faults: faults),
            markers: stores.markers, arrivals: stores.arrivals, reconcile: stores.reconcile, leader: stores.leader, workers: stores.workers,
            operatorView: stores.operatorView)
        var logger = Logger(label: "worker-rules")
        logger.logLevel = .critical
        runtime = WorkerRuntime(
            configuration: configuration, instanceId: Self.instanceId,
            dependencies: .init(
                store: faulty, directory: directory, publisher: bus, consumer: inbox, host: opener, bridge: NoUpstreams()),
            sessionOptions: SessionOptions(), metrics: PoolMetrics(), logger: logger)
        let services = try await runtime.prepareServices()
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: logger))
        let group = group
        running = Task { try await group.run() }
        try await waitFor("the worker to consume its jobs queue") { self.inbox.isConsuming(self.configuration.topology.jobsQueue) }
    }

    var jobsQueue: String { configuration.topology.jobsQueue }
    var controlQueue: String { (try? configuration.topology.controlQueue(instanceId: Self.instanceId).name) ?? "" }

    /// An enabled row whose address is the in-process peer's (or `address`).
    func enable(_ id: EndpointID, address: String? = nil, updatedAt: Date? = nil) {
        directory.put(EndpointRecord(
            id: id, name: "name-\(id)", address: address ?? peer.address(token: "t-\(id)"), userId: "u", isEnabled: true, updatedAt: updatedAt))
    }

    /// A job for `id`, as the scheduler publishes it (its pending marker set first).
    func job(_ id: EndpointID, reason: RecoveryReason = .missing, attempt: Int = 1) async throws -> RecoveryJob {
        let job = RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: id, reason: reason, attempt: attempt, enqueuedAt: Date())
        try await pool.markers.refreshPending(endpointId: id, jobId: job.jobId, ttl: .seconds(60))
        return job
    }

    /// Publishes `job` to the jobs queue; returns its delivery tag.
    @discardableResult
    func deliver(_ job: RecoveryJob, redelivered: Bool = false) -> UInt64 {
        inbox.deliver(Array(job.encoded()), messageId: job.jobId, to: jobsQueue, redelivered: redelivered)
    }

    /// Enables `id`, delivers its job and waits until the job is settled: the session is held.
    func holdSession(_ id: EndpointID) async throws {
        enable(id)
        let tag = deliver(try await job(id))
        try await waitFor("\(id)'s session to be held") { !inbox.settlements(of: tag).isEmpty }
    }

    /// The job id the endpoint's pending marker names, if any.
    func marker(_ id: EndpointID) async throws -> String? {
        var cache = HeldSessionsCache()
        return try await pool.reconcile.observe(enabled: [EnabledEndpoint(id: id, name: id.rawValue, updatedAt: nil)], cache: &cache, fullRead: true).pending[id]
    }

    /// Sends this worker a stop for `id`.
    func stop(_ id: EndpointID) {
        let message = ControlMessage(endpointId: id, instanceId: Self.instanceId, reason: .orphaned, issuedAt: Date())
        inbox.deliver(Array(message.encoded()), messageId: nil, to: controlQueue)
    }

    /// Sessions the worker holds now.
    func held(_ id: EndpointID) async -> HeldSession? { await runtime.keeper.session(id) }

    /// The endpoint's state as the store has it.
    func state(_ id: EndpointID) async throws -> ConnectionState? {
        if case .decoded(let state, _) = try await pool.states.read(endpointId: id) { return state }
        return nil
    }

    /// Whether someone holds the endpoint's lease now, on the store's clock.
    func leaseHeld(_ id: EndpointID) -> Bool {
        keyspace.update { contents, now in contents.value(contents.leases[id], at: now) != nil }
    }

    /// Another holder has the endpoint's lease now (this worker's was lost in a failover, and another
    /// took it), in one step: no renewal of this worker's can come between.
    func leaseTakenByAnother(_ id: EndpointID) {
        keyspace.update { contents, now in
            contents.leases[id] = InMemoryKeyspace.Expiring(value: "another-holder", expiresAt: now + 60_000)
        }
    }

    /// Graceful shutdown (SIGTERM), waited out.
    func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Ends the worker abruptly and the peer's loops: every test's last step.
    func close() async {
        running.cancel()
        _ = try? await running.value
        peer.close()
        host.shutdown()
    }

    /// Waits for the delivery `tag` to be settled, and checks that its job was given back: acked, published
    /// again, no result, nothing opened.
    func expectGivenBack(_ tag: UInt64, _ job: RecoveryJob) async throws {
        try await waitFor("the delivery to be settled") { !inbox.settlements(of: tag).isEmpty }
        #expect(inbox.settlements(of: tag) == [.acked])
        #expect(bus.jobs.map(\.jobId) == [job.jobId])
        #expect(bus.results.isEmpty)
        #expect(opener.opens.load(ordering: .relaxed) == 0)
    }

    func waitFor(_ what: String, within timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        guard try await eventually(timeout: timeout, every: .milliseconds(20), condition) else {
            throw HarnessError("timed out waiting for \(what)")
        }
    }
}

/// Faults the test switches on in the worker's stores: renewals that fail as if Redis did not answer, and
/// state commits the store refuses.
final class StoreFaults: Sendable {
    let renewalsFail = Atomic<Bool>(false)
    let commitsRefused = Atomic<Bool>(false)
    /// Redis does not answer the release of a session (its state and lease).
    let releasesFail = Atomic<Bool>(false)
    /// Redis does not answer the worker's `TIME` (the check before a job starts).
    let silent = Atomic<Bool>(false)
    /// Redis takes the worker's `TIME` and answers nothing until this is cleared; the call ignores
    /// cancellation meanwhile, as a real client's command does until its command timeout.
    let unanswered = Atomic<Bool>(false)
    /// Every lease renewal is answered this many milliseconds late (an overloaded machine).
    let renewalDelayMilliseconds = Atomic<Int>(0)
}

struct StoreUnreachable: Error, CustomStringConvertible {
    var description: String { "Redis did not answer (injected)" }
}

struct FaultyLeases: LeaseStore {
    let base: any LeaseStore
    let faults: StoreFaults

    func acquire(endpointId: EndpointID, token: String, ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> LeaseAcquisition {
        try await base.acquire(endpointId: endpointId, token: token, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout)
    }
    func renew(_ leases: [EndpointID: String], ttl: Duration) async throws -> Set<EndpointID> {
        if faults.renewalsFail.load(ordering: .relaxed) { throw StoreUnreachable() }
        let delay = faults.renewalDelayMilliseconds.load(ordering: .relaxed)
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        return try await base.renew(leases, ttl: ttl)
    }
    func release(endpointId: EndpointID, token: String) async throws -> Bool { try await base.release(endpointId: endpointId, token: token) }
    func reacquire(_ leases: [EndpointID: String], ttl: Duration, foreignHeartbeatTimeout: Duration?) async throws -> (fences: [EndpointID: Int], replicated: Bool) {
        if faults.renewalsFail.load(ordering: .relaxed) { throw StoreUnreachable() }
        return try await base.reacquire(leases, ttl: ttl, foreignHeartbeatTimeout: foreignHeartbeatTimeout)
    }
    func serverTime() async throws -> Date {
        if faults.silent.load(ordering: .relaxed) { throw StoreUnreachable() }
        while faults.unanswered.load(ordering: .relaxed) {
            await withUnsafeContinuation { (resumed: UnsafeContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { resumed.resume() }
            }
        }
        return try await base.serverTime()
    }
}

struct FaultyStates: SessionStates {
    let base: any SessionStates
    let faults: StoreFaults

    func write(_ state: ConnectionState, token: String) async throws -> Bool { try await base.write(state, token: token) }
    func write(_ writes: [StateWrite]) async throws -> Set<EndpointID> { try await base.write(writes) }
    func releaseSession(endpointId: EndpointID, token: String) async throws -> Bool {
        if faults.releasesFail.load(ordering: .relaxed) { throw StoreUnreachable() }
        return try await base.releaseSession(endpointId: endpointId, token: token)
    }
    func commitRecovered(_ state: ConnectionState, token: String, jobId: String) async throws -> Bool {
        if faults.commitsRefused.load(ordering: .relaxed) { return false }
        return try await base.commitRecovered(state, token: token, jobId: jobId)
    }
    func settle(_ disposition: ResultDisposition, endpointId: EndpointID, jobId: String) async throws {
        try await base.settle(disposition, endpointId: endpointId, jobId: jobId)
    }
    func read(endpointId: EndpointID) async throws -> StateReading { try await base.read(endpointId: endpointId) }
}

/// The jobs and control queues in memory. Deliveries go to the queue's consumer (or wait for one); acks
/// and nacks are recorded by delivery tag. A requeued delivery is not delivered again by itself: the
/// broker's redelivery is the test's to make.
final class InMemoryInbox: WorkerInbox {
    enum Settlement: Equatable {
        case acked
        case nacked(requeue: Bool)
    }

    private struct State {
        var consumers: [String: (tag: String, feed: AsyncStream<AMQPDelivery>.Continuation)] = [:]
        var nextConsumer = 0
        var waiting: [String: [AMQPDelivery]] = [:]
        var nextTag: UInt64 = 0
        var settlements: [UInt64: [Settlement]] = [:]
    }
    private let state = Mutex(State())

    func isConsuming(_ queue: String) -> Bool { state.withLock { $0.consumers[queue] != nil } }

    /// Every settlement of the delivery, in order (one, when the worker keeps the rules).
    func settlements(of tag: UInt64) -> [Settlement] { state.withLock { $0.settlements[tag] ?? [] } }

    @discardableResult
    func deliver(_ body: [UInt8], messageId: String?, to queue: String, redelivered: Bool = false) -> UInt64 {
        let (delivery, consumer) = state.withLock { state in
            state.nextTag += 1
            let delivery = AMQPDelivery(
                body: body, properties: AMQPProperties(messageID: messageId), routingKey: queue, redelivered: redelivered,
                deliveryTag: state.nextTag, consumerTag: state.consumers[queue]?.tag)
            if state.consumers[queue] == nil { state.waiting[queue, default: []].append(delivery) }
            return (delivery, state.consumers[queue]?.feed)
        }
        consumer?.yield(delivery)
        return delivery.deliveryTag
    }

    func declareControlQueue(_ topology: Topology, instanceId: String) async throws -> String {
        try topology.controlQueue(instanceId: instanceId).name
    }

    func setPrefetch(_ count: UInt16) async throws {}

    func startConsuming(queue: String, exclusive: Bool) async throws -> AMQPConsumer {
        let (stream, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self)
        let (tag, waiting) = state.withLock { state in
            state.nextConsumer += 1
            let tag = "consumer-\(state.nextConsumer)"
            state.consumers[queue] = (tag, continuation)
            defer { state.waiting[queue] = nil }
            return (tag, state.waiting[queue] ?? [])
        }
        for delivery in waiting { continuation.yield(delivery) }
        return AMQPConsumer(tag: tag, queue: queue, deliveries: stream)
    }

    /// Ends the consumer's deliveries; a consumer already cancelled (or replaced) is left alone.
    func cancel(_ consumer: AMQPConsumer) async throws {
        let feed = state.withLock { state -> AsyncStream<AMQPDelivery>.Continuation? in
            guard let current = state.consumers[consumer.queue], current.tag == consumer.tag else { return nil }
            state.consumers[consumer.queue] = nil
            return current.feed
        }
        feed?.finish()
    }

    func ack(_ delivery: AMQPDelivery) async throws -> AcknowledgementResult {
        record(.acked, delivery)
    }

    func nack(_ delivery: AMQPDelivery, requeue: Bool) async throws -> AcknowledgementResult {
        record(.nacked(requeue: requeue), delivery)
    }

    private func record(_ settlement: Settlement, _ delivery: AMQPDelivery) -> AcknowledgementResult {
        state.withLock { $0.settlements[delivery.deliveryTag, default: []].append(settlement) }
        return .sent
    }
}

/// What the worker published, by kind; result publishes are refused while `refuseResults` is on.
final class RecordingWorkerBus: WorkerBus {
    struct Dead: Sendable {
        let endpointId: EndpointID?
        let reason: DeadLetterReason
    }
    private struct Log {
        var jobs: [RecoveryJob] = []
        var retries: [(job: RecoveryJob, step: Int)] = []
        var dead: [Dead] = []
        var results: [JobResult] = []
    }
    private let log = Mutex(Log())
    let refuseResults = Atomic<Bool>(false)

    struct Refused: Error, CustomStringConvertible {
        var description: String { "the broker refused the message (injected)" }
    }

    var jobs: [RecoveryJob] { log.withLock { $0.jobs } }
    var retries: [RecoveryJob] { log.withLock { $0.retries.map(\.job) } }
    var dead: [Dead] { log.withLock { $0.dead } }
    var results: [JobResult] { log.withLock { $0.results } }

    func declareTopology() async throws {}
    func publish(job: RecoveryJob) async throws { log.withLock { $0.jobs.append(job) } }
    func publish(retry job: RecoveryJob, step: Int) async throws { log.withLock { $0.retries.append((job, step)) } }
    func publishDead(body: [UInt8], messageId: String?, endpointId: EndpointID?, reason: DeadLetterReason, error: JobError?, attempt: Int?, at date: Date) async throws {
        log.withLock { $0.dead.append(Dead(endpointId: endpointId, reason: reason)) }
    }
    func publish(result: JobResult) async throws {
        if refuseResults.load(ordering: .relaxed) { throw Refused() }
        log.withLock { $0.results.append(result) }
    }
}

/// Opens sessions with a real client host; while `hold` is on, each open waits (the connect in flight)
/// until it is off, or fails with the cause the test set.
final class HeldOpener: SessionOpener {
    private let host: SessionHost
    let hold = Atomic<Bool>(false)
    /// Opens begun (held ones included).
    let opens = Atomic<Int>(0)
    private let failure = Mutex<SessionError?>(nil)

    init(host: SessionHost) { self.host = host }

    /// The next opens fail with `error` (nil: they connect again).
    func fail(with error: SessionError?) { failure.withLock { $0 = error } }

    func connect(_ address: String, options: SessionOptions) async throws(SessionError) -> WebSocketSession {
        opens.add(1, ordering: .relaxed)
        while hold.load(ordering: .relaxed) {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { throw .cancelled }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return try await host.connect(address, options: options)
    }
}

/// An in-process Xiaozhi endpoint: accepts sessions on loopback, speaks first (as Xiaozhi does), and counts
/// the live sessions of each token, so that a test sees a duplicate the moment there is one. A token can be
/// made to refuse the upgrade with an HTTP status, or to close each session right after its first message.
final class XiaozhiPeer: Sendable {
    enum Behaviour: Sendable {
        case serve
        case refuse(status: Int)
        case closeAfterHello(WebSocketCloseCode)
    }

    private final class Registry: Sendable {
        let sessions = Mutex<[String: [WebSocketSession]]>([:])
        let opened = Mutex<[String: Int]>([:])
        let behaviours = Mutex<[String: Behaviour]>([:])

        func behaviour(_ token: String) -> Behaviour { behaviours.withLock { $0[token] ?? .serve } }

        func accept(_ session: WebSocketSession, token: String) {
            sessions.withLock { $0[token, default: []].append(session) }
            opened.withLock { $0[token, default: 0] += 1 }
        }

        func closed(_ session: WebSocketSession, token: String) {
            sessions.withLock { $0[token]?.removeAll { $0 === session } }
        }
    }

    private let server: WebSocketServer
    private let registry = Registry()

    init(host: SessionHost) throws {
        let registry = registry
        let options = ServerOptions(accept: { head in
            if case .refuse(let status) = registry.behaviour(Self.token(head)) { return status }
            return nil
        })
        server = try host.listen(options: options) { session, head in
            let token = Self.token(head)
            registry.accept(session, token: token)
            session.send(text: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            if case .closeAfterHello(let code) = registry.behaviour(token) { session.close(code: code, reason: "peer closed") }
            Task {
                for await _ in session.events {}
                registry.closed(session, token: token)
            }
        }
    }

    private static func token(_ head: HTTPRequestHead) -> String { head.target.components(separatedBy: "token=").last ?? "" }

    func address(token: String) -> String { "ws://127.0.0.1:\(server.port)/mcp/?token=\(token)" }

    /// How the sessions of `token` are answered from now on.
    func set(_ token: String, _ behaviour: Behaviour) { registry.behaviours.withLock { $0[token] = behaviour } }

    /// Sessions of `token` open now.
    func live(_ token: String) -> Int { registry.sessions.withLock { $0[token]?.filter(\.isOpen).count ?? 0 } }

    /// Sessions of `token` ever opened.
    func opened(_ token: String) -> Int { registry.opened.withLock { $0[token] ?? 0 } }

    func close() { server.close() }
}

/// A bridge with no upstream services: the sessions under test bind no tools.
final class NoUpstreams: ToolCallBridge {
    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome { .failed(BridgeFailure(kind: .unreachable, serviceName: "none", message: "no upstream")) }
    func holdServices(_ services: Set<UpstreamService>) {}
    func releaseServices(_ services: Set<UpstreamService>) {}
}
