import Foundation
import RecoveryCore
import RedisClient
import Synchronization
import Transport
import WebSocket

/// An imitation of the original .NET platform's connection monitor, run beside a pool in the test
/// process: the same Redis keys, its own Redis connection and its own WebSocket sessions. Each cycle,
/// for every endpoint it watches, it carries out `OriginalMonitorDecision`: skip a live session, else
/// take the lock key (`SET NX PX`, retried for the lock wait), connect, write a state without `Owner`,
/// release the lock. Meanwhile it refreshes `LastHeartbeat` of its open sessions, and marks a session
/// Xiaozhi closed as Disconnected, so that its next cycle connects it again.
final class OriginalMonitor: Sendable {
    /// An endpoint row as the original reads it.
    struct Endpoint: Sendable, Hashable {
        let id: EndpointID
        let name: String
        /// The full ws:// address with its token: used to connect, never printed.
        let address: String
    }

    /// What the monitor did since it started.
    struct Counts: Sendable, Equatable, CustomStringConvertible {
        /// Sessions it opened (and wrote Connected for).
        var connects = 0
        /// Endpoints left alone at a cycle's start or after taking the lock (a live session somewhere).
        var skips = 0
        /// Lock waits that ended without the lock (someone held it for the whole wait).
        var lockWaitsTimedOut = 0
        /// WebSocket connects that failed.
        var connectFailures = 0
        /// Open sessions that Xiaozhi closed (not by `stop()`).
        var sessionsLost = 0
        /// Of those, the ones Xiaozhi closed because a newer connection took the token: a duplicate.
        var sessionsEvicted = 0

        var description: String {
            "connects \(connects), skips \(skips), lock waits timed out \(lockWaitsTimedOut), connect failures \(connectFailures), sessions lost \(sessionsLost) (evicted by a duplicate \(sessionsEvicted))"
        }
    }

    /// The reason the simulator (like Xiaozhi) gives when a newer connection of the token replaces a session.
    static let evictionReason = "replaced by a new connection"
    /// Lines kept in the journal.
    static let journalLimit = 400

    private struct OpenSession {
        let session: WebSocketSession
        /// The state written at connect; each heartbeat writes it again with a new `LastHeartbeat`.
        var state: ConnectionState
    }

    private struct Shared {
        var endpoints: [Endpoint] = []
        var sessions: [EndpointID: OpenSession] = [:]
        var counts = Counts()
        var journal: [String] = []
        var stopping = false
        /// `cycleNow()` was called: the sleep between cycles ends early.
        var wakeRequested = false
        var loops: [Task<Void, Never>] = []
        var serving: [Task<Void, Never>] = []
    }

    /// Rewrites a state only while it is the writer's own (no `Owner`, its `InstanceId`), so a heartbeat
    /// or a disconnect never overwrites a state the pool or another instance wrote since; a heartbeat
    /// also needs it Connected, so one sent as its session dropped cannot undo the Disconnected.
    /// KEYS[1] state key; ARGV[1] new value, ARGV[2] instance id, ARGV[3] '1' to require Status 0.
    /// Reply: 1 written, 0 not its state.
    static let rewriteOwnState = RedisScript("""
        local value = redis.call('GET', KEYS[1])
        if not value then return 0 end
        local ok, state = pcall(cjson.decode, value)
        if not ok or type(state) ~= 'table' then return 0 end
        if state['Owner'] ~= nil or state['InstanceId'] ~= ARGV[2] then return 0 end
        if ARGV[3] == '1' and state['Status'] ~= 0 then return 0 end
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        """)

    /// Releases the lock only while it holds this monitor's token (RedLock's release).
    /// KEYS[1] lock key; ARGV[1] token. Reply: 1 released, 0 not held by the token.
    static let releaseLock = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """)

    let decision: OriginalMonitorDecision
    let cycleInterval: Duration
    let heartbeatInterval: Duration
    /// How long a lock attempt retries, and how often.
    let lockWait: Duration
    let lockRetry: Duration
    /// The lock's PX: held only while connecting, released once connected.
    let lockTTL: Duration
    private let redis: RedisClient
    private let host: SessionHost
    private let shared = Mutex(Shared())

    private init(
        redis: RedisClient, host: SessionHost, decision: OriginalMonitorDecision, cycleInterval: Duration,
        heartbeatInterval: Duration, lockWait: Duration, lockRetry: Duration, lockTTL: Duration
    ) {
        self.redis = redis
        self.host = host
        self.decision = decision
        self.cycleInterval = cycleInterval
        self.heartbeatInterval = heartbeatInterval
        self.lockWait = lockWait
        self.lockRetry = lockRetry
        self.lockTTL = lockTTL
    }

    /// Connects to Redis and starts the monitor loop and the heartbeat loop over `endpoints`.
    /// `heartbeatTimeout` is the platform's `ConnectionMonitor:HeartbeatTimeoutSeconds`, shared with the pool.
    static func start(
        endpoints: [Endpoint], redisURL: String, instanceId: String = "api-" + UUID().uuidString.prefix(8).lowercased(),
        cycleInterval: Duration = .seconds(2), heartbeatInterval: Duration = .seconds(2), heartbeatTimeout: Duration,
        lockWait: Duration = .seconds(10), lockRetry: Duration = .seconds(1), lockTTL: Duration = .seconds(300)
    ) async throws -> OriginalMonitor {
        let redis = try await RedisClient.connect(url: redisURL)
        let host = try SessionHost(threads: 1)
        let timeout = TimeInterval(heartbeatTimeout.components.seconds) + TimeInterval(heartbeatTimeout.components.attoseconds) / 1e18
        let monitor = OriginalMonitor(
            redis: redis, host: host, decision: OriginalMonitorDecision(instanceId: instanceId, heartbeatTimeout: timeout),
            cycleInterval: cycleInterval, heartbeatInterval: heartbeatInterval, lockWait: lockWait, lockRetry: lockRetry,
            lockTTL: lockTTL)
        monitor.shared.withLock { $0.endpoints = endpoints }
        let cycles = Task { await monitor.runCycles() }
        let heartbeats = Task { await monitor.runHeartbeats() }
        monitor.shared.withLock { $0.loops = [cycles, heartbeats] }
        return monitor
    }

    /// Adds endpoints to watch from the next cycle on (as rows the original finds enabled).
    func watch(_ more: [Endpoint]) {
        shared.withLock { state in
            let known = Set(state.endpoints.map(\.id))
            state.endpoints += more.filter { !known.contains($0.id) }
        }
    }

    /// Starts the next cycle now rather than at the end of the interval: a test uses it to line the
    /// monitor's cycle up with an event (the original's cycle falls at any moment, this one included).
    func cycleNow() {
        shared.withLock { $0.wakeRequested = true }
    }

    var counts: Counts { shared.withLock { $0.counts } }

    /// Ids of the endpoints whose session this monitor holds open now.
    var openSessionIds: Set<EndpointID> { shared.withLock { Set($0.sessions.keys) } }

    /// What it did, one line per event (ids, never addresses), the last `journalLimit` lines.
    var journal: String { shared.withLock { $0.journal.joined(separator: "\n") } }

    /// Stops both loops, closes every session (marking its state Disconnected) and the Redis connection.
    func stop() async {
        let loops = shared.withLock { state -> [Task<Void, Never>] in
            state.stopping = true
            return state.loops
        }
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
        let (open, serving) = shared.withLock { ($0.sessions.values.map(\.session), $0.serving) }
        for session in open { session.close(code: .goingAway, reason: "monitor stopping") }
        for task in serving { await task.value }
        await redis.close()
        host.shutdown()
    }

    // MARK: the monitor loop

    private func runCycles() async {
        while !Task.isCancelled {
            let endpoints = shared.withLock { $0.endpoints }
            // One task per endpoint: the original runs this loop in every API instance, so a cluster of
            // them works on several endpoints at once, and one lock wait does not hold up the rest.
            await withTaskGroup(of: Void.self) { group in
                for endpoint in endpoints {
                    group.addTask { await self.visit(endpoint) }
                }
            }
            await sleepUntilNextCycle()
        }
    }

    /// Sleeps for the cycle interval, in short slices so that `cycleNow()` ends it early.
    private func sleepUntilNextCycle() async {
        let deadline = ContinuousClock.now + cycleInterval
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let woken = shared.withLock { state in
                defer { state.wakeRequested = false }
                return state.wakeRequested
            }
            if woken { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One endpoint's turn in a cycle.
    private func visit(_ endpoint: Endpoint) async {
        let ownSessionOpen = shared.withLock { $0.sessions[endpoint.id] != nil }
        let first: OriginalMonitorDecision.CycleStep
        do {
            first = decision.atCycleStart(ownSessionOpen: ownSessionOpen, state: try await readState(endpoint.id), now: Date())
        } catch {
            note("\(endpoint.id): state unreadable from Redis: \(error)")
            return
        }
        guard first == .takeLock else {
            shared.withLock { $0.counts.skips += 1 }
            return
        }
        let token = UUID().uuidString.lowercased()
        let lockKey = RedisKeys.lease(endpoint.id)
        do {
            let acquired = try await takeLock(lockKey, token: token)
            let next = decision.afterLock(acquired: acquired, state: try await readState(endpoint.id), now: Date())
            switch next {
            case .lockWaitTimedOut:
                shared.withLock { $0.counts.lockWaitsTimedOut += 1 }
                note("\(endpoint.id): lock wait timed out")
            case .release:
                shared.withLock { $0.counts.skips += 1 }
                note("\(endpoint.id): connected elsewhere while waiting for the lock")
            case .connect:
                await connect(endpoint)
            }
            if acquired { try await redis.evaluate(Self.releaseLock, keys: [lockKey], arguments: [token]) }
        } catch {
            note("\(endpoint.id): Redis failed during the lock step: \(error)")
        }
    }

    /// `SET key token NX PX ttl`, retried every `lockRetry` until `lockWait` passes.
    private func takeLock(_ key: String, token: String) async throws -> Bool {
        let deadline = ContinuousClock.now + lockWait
        while true {
            if try await redis.send("SET", key, token, "NX", "PX", Self.milliseconds(lockTTL)) != .null { return true }
            guard ContinuousClock.now + lockRetry <= deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: lockRetry)
        }
    }

    /// Opens the session and, once open, writes its Connected state (the lock still held).
    private func connect(_ endpoint: Endpoint) async {
        let session: WebSocketSession
        do {
            session = try await host.connect(endpoint.address)
        } catch {
            shared.withLock { $0.counts.connectFailures += 1 }
            note("\(endpoint.id): connect failed: \(error)")
            return
        }
        let now = Date()
        let state = ConnectionState(
            endpointId: endpoint.id, instanceId: decision.instanceId, status: .connected, lastConnectedTime: now,
            lastHeartbeat: now, reconnectAttempts: 0, endpointName: endpoint.name, webSocketEndpoint: endpoint.address, owner: nil)
        do {
            _ = try await redis.send("SET", RedisKeys.connectionState(endpoint.id), state.encoded())
            _ = try await redis.send("SADD", RedisKeys.connectionIndex, endpoint.id)
        } catch {
            note("\(endpoint.id): state write failed: \(error)")
        }
        let responder = OriginalMonitorResponder(endpointName: endpoint.name)
        let accepted = shared.withLock { shared -> Bool in
            guard !shared.stopping else { return false }
            shared.sessions[endpoint.id] = OpenSession(session: session, state: state)
            shared.counts.connects += 1
            shared.serving.append(Task { await self.serve(session, endpointId: endpoint.id, responder: responder) })
            return true
        }
        if accepted {
            note("\(endpoint.id): connected")
        } else {
            session.close(code: .goingAway, reason: "monitor stopping")
        }
    }

    /// Answers Xiaozhi until the session ends; then, unless stopping, counts the loss and marks the state
    /// Disconnected (only while it is still this monitor's state).
    private func serve(_ session: WebSocketSession, endpointId: EndpointID, responder: OriginalMonitorResponder) async {
        var ending: WebSocketCloseInfo?
        for await event in session.events {
            switch event {
            case .message(.text(let text)):
                if let reply = responder.reply(to: text) { session.send(text: reply) }
            case .message:
                break
            case .closed(let info, _):
                ending = info
            }
        }
        let now = Date()
        let (open, stopping) = shared.withLock { shared -> (OpenSession?, Bool) in
            guard let open = shared.sessions[endpointId], open.session === session else { return (nil, shared.stopping) }
            shared.sessions[endpointId] = nil
            if !shared.stopping {
                shared.counts.sessionsLost += 1
                if ending?.reason == Self.evictionReason { shared.counts.sessionsEvicted += 1 }
            }
            return (open, shared.stopping)
        }
        guard var state = open?.state else { return }
        if !stopping { note("\(endpointId): session lost: \(ending.map { "\($0)" } ?? "no close")") }
        state.status = .disconnected
        state.lastDisconnectedTime = now
        _ = try? await redis.evaluate(Self.rewriteOwnState, keys: [RedisKeys.connectionState(endpointId)], arguments: [state.encoded(), decision.instanceId, "0"])
    }

    // MARK: heartbeats

    private func runHeartbeats() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatInterval)
            let open = shared.withLock { Array($0.sessions.values) }
            let now = Date()
            for entry in open where entry.session.isOpen {
                var state = entry.state
                state.lastHeartbeat = now
                let written = try? await redis.evaluate(
                    Self.rewriteOwnState, keys: [RedisKeys.connectionState(state.endpointId)], arguments: [state.encoded(), decision.instanceId, "1"])
                if written?.integer == 0, entry.session.isOpen {
                    note("\(state.endpointId): heartbeat not written: the state is not this monitor's Connected state any more")
                }
            }
        }
    }

    // MARK: helpers

    private func readState(_ id: EndpointID) async throws -> ConnectionState? {
        guard let value = try await redis.send("GET", RedisKeys.connectionState(id)).string else { return nil }
        return try? ConnectionState.decode(value)
    }

    private func note(_ line: String) {
        let stamped = "\(Timestamp.format(Date())) \(line)"
        shared.withLock { shared in
            shared.journal.append(stamped)
            if shared.journal.count > Self.journalLimit { shared.journal.removeFirst(shared.journal.count - Self.journalLimit) }
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
