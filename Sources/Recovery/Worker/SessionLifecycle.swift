import Foundation
import Logging
import Synchronization
import MCP
import RecoveryCore
import Transport
import WebSocket

extension WorkerRuntime {
    /// Opens the endpoint's WebSocket session and the MCP server that answers on it, and starts serving.
    /// Xiaozhi speaks first: a session it closes before its first message (a rejected token gets close
    /// 1008 right after the upgrade) is a failed attempt, not a recovered one.
    /// The tool catalog is read from `directory` while the connection is made.
    func openSession(_ endpoint: EndpointRecord, leaseToken: String, fence: Int, attempt: Int, directory: any EndpointDirectory) async throws -> HeldSession {
        async let catalogRead = loadCatalog(endpoint, from: directory)
        var options = sessionOptions
        // Messages go straight to the MCP server on the session's loop thread (held until it is set).
        options.messageDelivery = .handler
        let session = try await dependencies.host.connect(endpoint.address, options: options)
        let catalog = await catalogRead
        let mcp = MCPSessionServer(
            options: MCPSessionOptions(endpointName: endpoint.name, maximumConcurrentCalls: configuration.mcpMaxConcurrentCalls, maximumMessageBytes: configuration.mcpMaxMessageBytes), catalog: catalog, bridge: dependencies.bridge,
            logger: logger, send: { [session] text in session.send(text: text) })
        let connectedAt = Date()
        let heartbeat = HeartbeatStateTemplate(sessionState(
            endpointId: endpoint.id, endpointName: endpoint.name, address: endpoint.address, connectedAt: connectedAt, fence: fence,
            status: .connected, now: serverNow()))
        let held = HeldSession(
            endpointId: endpoint.id, endpointName: endpoint.name, address: endpoint.address, leaseToken: leaseToken, fence: fence,
            connectedAt: connectedAt, openedAt: .now, attempt: attempt, endpointUpdatedAt: endpoint.updatedAt,
            heartbeat: heartbeat, session: session, mcp: mcp)
        let (firstEvents, first) = AsyncStream.makeStream(of: FirstSessionEvent.self, bufferingPolicy: .bufferingNewest(1))
        startServing(held, first: first)
        let event = await withTaskGroup(of: FirstSessionEvent.self) { group in
            group.addTask {
                for await event in firstEvents { return event }
                return .quiet
            }
            group.addTask { [firstMessageTimeout] in
                try? await Task.sleep(for: firstMessageTimeout)
                return .quiet
            }
            let event = await group.next() ?? .quiet
            group.cancelAll()
            first.finish()
            return event
        }
        if case .closed(let info) = event {
            mcp.close()
            throw SessionError.closed(info)
        }
        return held
    }

    /// How long a new session may stay silent before it counts as up anyway.
    var firstMessageTimeout: Duration { min(.seconds(configuration.connectTimeoutSeconds), .seconds(3)) }

    /// The endpoint's tool catalog from its active bindings; an empty one when the tables cannot be read
    /// (the session still answers `initialize` and `ping`, and the catalog is rebuilt later).
    func loadCatalog(_ endpoint: EndpointRecord, from directory: any EndpointDirectory) async -> ToolCatalog {
        do {
            return buildCatalog(endpoint, rows: try await StaleConnectionRetry.run { try await directory.catalogRows(endpointId: endpoint.id) })
        } catch {
            logger.warning("could not load the tools of server \(endpoint.id)", metadata: ["error": "\(error)"])
            return ToolCatalog(tools: [])
        }
    }

    /// The endpoint's tool catalog from its rows; what is wrong with them is logged.
    func buildCatalog(_ endpoint: EndpointRecord, rows: CatalogRows) -> ToolCatalog {
        let built = ToolCatalog.build(
            endpointId: endpoint.id.rawValue, ownerUserId: endpoint.userId, bindings: rows.bindings,
            serviceConfigs: rows.configs, tools: rows.tools)
        for issue in built.issues {
            logger.notice("tool catalog of server \(endpoint.id): \(issue)")
        }
        return built.catalog
    }

    /// Hands the session's messages to its MCP server on the session's loop thread, and waits for its close
    /// to end it as lost. The first event (a message, or the close) is also reported to `first`.
    func startServing(_ held: HeldSession, first: AsyncStream<FirstSessionEvent>.Continuation) {
        let firstReport = FirstEventReport()
        held.session.onMessage { [mcp = held.mcp] _, message in
            if firstReport.claim() { first.yield(.message) }
            if case .text(let text) = message { mcp.receive(text) }
        }
        Task {
            var cause = FailureCause.other("closed")
            for await event in held.session.events {
                switch event {
                case .message(let message):
                    // Not expected (messages go to the handler); served all the same.
                    if case .text(let text) = message { held.mcp.receive(text) }
                case .closed(let info, let transportError):
                    if firstReport.claim() { first.yield(.closed(info)) }
                    cause = transportError.map { FailureCause($0) } ?? FailureCause(SessionError.closed(info))
                }
            }
            first.finish()
            held.closeRecord.record(cause)
            await self.endSession(held.endpointId, .lost(cause))
        }
    }

    /// Ends a held session once, whichever way it ends; what follows is `SessionEnding`'s rule. A graceful
    /// shutdown waits for the endings in progress: a session lost just before it publishes its `released`
    /// job after setting the endpoint's pending marker, and a marker left without its job would hold the
    /// endpoint back until the marker expires.
    func endSession(_ endpointId: EndpointID, _ end: SessionEnd) async {
        sessionEndings.begin()
        defer { sessionEndings.end() }
        let taken = end == .stopped ? await keeper.stop(endpointId) : await keeper.take(endpointId)
        guard let held = taken else { return }
        let ending = closeEnded(held, end)
        await followUp(held, ending)
    }

    /// Closes a session taken from the keeper, touching no server, and returns the rest of its ending.
    func closeEnded(_ held: HeldSession, _ end: SessionEnd) -> SessionEnding {
        let ending = SessionEnding.of(
            end, lived: ContinuousClock.now - held.openedAt, attempt: held.attempt, stopping: shuttingDown.load(ordering: .relaxed),
            lossRule: configuration.sessionLossRule)
        held.mcp.close()
        if let close = ending.close { held.session.close(code: WebSocketCloseCode(rawValue: close.code), reason: close.reason) }
        if let cause = ending.lostCause { metrics.worker.sessionLost(cause: cause) }
        switch end {
        case .stopped:
            logger.info("closed the session of server \(held.endpointId) (\(held.endpointName)): endpoint disabled or deleted")
        case .lost(let cause):
            logger.warning("session of server \(held.endpointId) (\(held.endpointName)) lost: \(cause.message)")
        case .handoff, .leaseLost, .fenced:
            break
        }
        return ending
    }

    /// The rest of an ending: Redis released, the follow-up job (before the table write, so that a slow
    /// Postgres does not hold the endpoint down), then the row.
    func followUp(_ held: HeldSession, _ ending: SessionEnding) async {
        sessionEndings.begin()
        defer { sessionEndings.end() }
        let releaseAnswered = ending.releaseInRedis ? await releaseInRedis(held) : true
        switch ending.follow(releaseAnswered: releaseAnswered) {
        case .nothing:
            break
        case .job(let reason):
            await publishJob(endpointId: held.endpointId, reason: reason)
        case .failedAttempt(let decision, let cause):
            await publishFailedAttempt(held, cause: cause, decision: decision)
        }
        if ending.markDisconnected { await markDisconnected(held, at: Date()) }
        metrics.worker.sessionsHeld(await keeper.count)
    }

    /// A session that died soon after opening (`SessionLossRule`): the attempt that opened it failed, and
    /// goes through `JobAttempt`'s failure path: a delayed retry, or a dead letter with the endpoint parked.
    func publishFailedAttempt(_ held: HeldSession, cause: FailureCause, decision: RetryDecision) async {
        logger.warning("session of server \(held.endpointId) ended \(ContinuousClock.now - held.openedAt) after opening: attempt \(held.attempt) failed")
        let failed = RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: held.endpointId, reason: .released, attempt: held.attempt, enqueuedAt: Date())
        var (attempt, step) = JobAttempt.failed(
            failed, cause: cause, decision: decision, retryPolicy: retryPolicy, pendingTtl: .seconds(configuration.pendingTtlSeconds),
            endpointUpdatedAt: held.endpointUpdatedAt)
        var context = AttemptContext(delivery: nil, store: store, directory: directory, started: ContinuousClock.now)
        context.endpointName = held.endpointName
        await run(&attempt, from: step, context: &context)
    }

    /// Deletes the state and releases the lease, both only while this holder has it; false when Redis did
    /// not answer.
    func releaseInRedis(_ held: HeldSession) async -> Bool {
        do {
            try await store.states.releaseSession(endpointId: held.endpointId, token: held.leaseToken)
            return true
        } catch {
            logger.warning("could not release server \(held.endpointId); its lease lapses by itself", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Marks the row disconnected, unless a later session came up since (another holder's).
    func markDisconnected(_ held: HeldSession, at date: Date) async {
        do {
            try await directory.markDisconnected(id: held.endpointId, at: date, sessionConnectedAt: held.connectedAt)
        } catch {
            logger.warning("could not mark server \(held.endpointId) disconnected in the table", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes a `handoff` or `released` job for an endpoint this worker let go, with its pending marker.
    func publishJob(endpointId: EndpointID, reason: RecoveryReason) async {
        let job = RecoveryJob(jobId: UUID().uuidString.lowercased(), endpointId: endpointId, reason: reason, attempt: 1, enqueuedAt: Date())
        do {
            try await store.markers.refreshPending(endpointId: endpointId, jobId: job.jobId, ttl: .seconds(configuration.pendingTtlSeconds))
            try await bus.publish(job: job)
            metrics.jobEnqueued(reason: reason.rawValue)
        } catch {
            try? await store.markers.clearPending(endpointIds: [endpointId])
            logger.warning("could not publish the \(reason.rawValue) job of server \(endpointId); the scheduler will find it missing", metadata: ["error": "\(error)"])
        }
    }

    /// Hands every held session off, concurrently, within `Recovery:ShutdownGraceSeconds`.
    func handOffAll() async {
        let held = await keeper.snapshot()
        guard !held.isEmpty else { return }
        logger.info("handing off \(held.count) sessions")
        let deadline = Duration.seconds(configuration.shutdownGraceSeconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { handoffs in
                    for session in held {
                        handoffs.addTask { await self.endSession(session.endpointId, .handoff) }
                    }
                }
            }
            group.addTask { try? await Task.sleep(for: deadline) }
            await group.next()
            group.cancelAll()
        }
        let left = await keeper.count
        if left > 0 { logger.warning("\(left) sessions were not handed off within \(deadline); their leases lapse") }
    }
}

/// Whether a new session's first event was reported: the message handler and the close race for it.
final class FirstEventReport: Sendable {
    private let reported = Atomic<Bool>(false)

    /// True for the first caller only.
    func claim() -> Bool {
        !reported.exchange(true, ordering: .acquiringAndReleasing)
    }
}

/// What a new session did first.
enum FirstSessionEvent: Sendable {
    case message
    case closed(WebSocketCloseInfo)
    /// Nothing within the timeout.
    case quiet
}
