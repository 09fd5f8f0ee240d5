import Foundation

/// The scheduler's decision, as a pure function: enabled endpoints and what Redis holds in, jobs to
/// publish, sessions to stop and states to delete out. Linear in its input (set and dictionary lookups).
///
/// Rules:
/// - live: a decoded state with status Connected or Connecting, `LastHeartbeat` not older than the
///   heartbeat timeout, and, when written by the pool, a lease present; or, for an id not read key by
///   key, the held-sessions index vouching for it (see `HeldSessions.vouchesFor`). A state written by the original
///   platform (no lease) with a fresh heartbeat counts as live.
/// - stale: a state that is not live (reason in `StaleReason`); it is deleted, and re-enqueued if enabled.
/// - connecting: no state but a lease (a worker is opening the session): nothing to do.
/// - missing: no state and no lease.
/// - a missing or stale enabled endpoint gets a job unless a job is pending, it is parked (see
///   `ParkedEndpoint.isActive`), or a job was published for it less than the cooldown ago. A pending
///   marker while no job waits anywhere (`jobQueuesIdle`), or naming a job the queue handed out behind a
///   later one unreceived (`vanishedJobs`), names a job that was lost (purged, dropped by the broker, never
///   published, stuck behind a stopped worker): it is removed and the endpoint treated as not pending.
/// - orphaned: live but not enabled; pool-held sessions get a stop sent to the owning worker.
/// - housekeeping: parks and cooldown clocks (`last-attempt`) of ids not enabled are removed, and so are
///   the worker records whose liveness key was read as gone, so neither hash grows with every endpoint
///   ever deleted or worker ever run.
public struct ReconcilePlanner: Sendable {
    public var policy: ReconcilePolicy

    public init(policy: ReconcilePolicy) {
        self.policy = policy
    }

    private enum Liveness {
        case live
        case connecting
        case missing
        case stale(StaleReason, raw: String)
    }

    private func liveness(of observation: LiveObservation?, now: Date) -> Liveness {
        guard let observation else { return .missing }
        switch observation.state {
        case .absent:
            return observation.leaseHeld ? .connecting : .missing
        case .unreadable(let raw):
            return .stale(.unreadable, raw: raw)
        case .decoded(let state, let raw):
            if state.lastHeartbeat < now.addingTimeInterval(-policy.heartbeatTimeout) {
                return .stale(.heartbeatExpired, raw: raw)
            }
            if state.isWrittenByPool && !observation.leaseHeld {
                return .stale(.leaseLost, raw: raw)
            }
            if !state.status.isUp {
                return .stale(.notConnected, raw: raw)
            }
            return .live
        }
    }

    /// Plans one pass.
    public func plan(_ input: ReconcileInput) -> ReconcilePlan {
        let now = input.now
        var plan = ReconcilePlan(report: ReconcileReport(generatedAt: now))
        var report = ReconcileReport(generatedAt: now)
        let scope = input.scope
        report.enabled.reserveCapacity(scope.endpoints.count)
        report.live.reserveCapacity(scope.endpoints.count)

        let checkPending = !input.pending.isEmpty
        let checkParked = !input.parked.isEmpty
        let checkAttempts = !input.lastAttempts.isEmpty
        let checkObservations = !input.observations.isEmpty

        for (index, endpoint) in scope.endpoints.enumerated() {
            report.enabled.append(endpoint.id)
            let observation = checkObservations ? input.observations[endpoint.id] : nil
            if observation == nil, scope.isVouchedFor(at: index) {
                report.live.append(endpoint.id)
                if checkParked, input.parked[endpoint.id] != nil { plan.parkedToClear.append(endpoint.id) }
                continue
            }
            if let observation, observation.indexed, case .absent = observation.state {
                plan.indexEntriesToRemove.append(endpoint.id)
            }
            let reason: RecoveryReason
            var staleReason: StaleReason?
            switch liveness(of: observation, now: now) {
            case .live:
                report.live.append(endpoint.id)
                if checkParked, input.parked[endpoint.id] != nil { plan.parkedToClear.append(endpoint.id) }
                continue
            case .connecting:
                report.connecting.append(endpoint.id)
                continue
            case .missing:
                report.missing.append(endpoint.id)
                reason = .missing
            case .stale(let why, let raw):
                report.stale.append(endpoint.id)
                plan.staleStates.append(StaleState(endpointId: endpoint.id, reason: why, storedValue: raw))
                reason = .stale
                staleReason = why
            }

            if checkPending, let jobId = input.pending[endpoint.id] {
                guard input.jobQueuesIdle || input.vanishedJobs[endpoint.id] == jobId else {
                    report.pending.append(endpoint.id)
                    continue
                }
                plan.lostPendingMarkers.append(PendingMarker(endpointId: endpoint.id, jobId: jobId))
            }
            if checkParked, let parked = input.parked[endpoint.id] {
                if parked.isActive(now: now, endpointUpdatedAt: endpoint.updatedAt, parkPeriod: policy.parkPeriod) {
                    report.parked.append(endpoint.id)
                    continue
                }
                plan.parkedToClear.append(endpoint.id)
            }
            if checkAttempts, let last = input.lastAttempts[endpoint.id], now.timeIntervalSince(last) < policy.reconnectCooldown {
                report.coolingDown.append(endpoint.id)
                continue
            }
            report.enqueued.append(endpoint.id)
            plan.jobs.append(PlannedJob(endpointId: endpoint.id, endpointName: endpoint.name, reason: reason, staleReason: staleReason))
        }

        // Ids Redis knows that are not enabled: orphans, stale leftovers, dangling index entries.
        for id in scope.notEnabled {
            guard let observation = input.observations[id] else { continue }
            switch observation.state {
            case .absent:
                if observation.indexed { plan.indexEntriesToRemove.append(id) }
            case .unreadable(let raw):
                report.stale.append(id)
                plan.staleStates.append(StaleState(endpointId: id, reason: .unreadable, storedValue: raw))
            case .decoded(let state, _):
                switch liveness(of: observation, now: now) {
                case .stale(let why, let raw):
                    report.stale.append(id)
                    plan.staleStates.append(StaleState(endpointId: id, reason: why, storedValue: raw))
                default:
                    report.orphaned.append(id)
                    if state.isWrittenByPool && !state.instanceId.isEmpty {
                        plan.stops.append(PlannedStop(endpointId: id, instanceId: state.instanceId))
                    } else {
                        plan.unmanagedOrphans.append(id)
                    }
                }
            }
        }

        var parkedElsewhere: [EndpointID] = []
        for id in input.parked.keys where !scope.isEnabled(id) {
            parkedElsewhere.append(id)
        }
        plan.parkedToClear.append(contentsOf: parkedElsewhere.sorted())
        plan.attemptsToForget = input.lastAttempts.keys.filter { !scope.isEnabled($0) }.sorted()
        plan.workersToForget = input.workerLiveness.filter { !$0.value }.map(\.key).sorted()

        // Lapsed index entries whose lease is gone or whose state is not the pool's any more.
        for id in scope.held.lapsed.sorted() {
            let observation = input.observations[id]
            var stillOurs = false
            if let observation, observation.leaseHeld, case .decoded(let state, _) = observation.state {
                stillOurs = state.isWrittenByPool
            }
            if !stillOurs { plan.heldToForget.append(id) }
        }

        plan.report = report
        return plan
    }
}
