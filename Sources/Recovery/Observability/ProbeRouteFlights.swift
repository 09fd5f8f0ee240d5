import Synchronization

/// Runs probe routes so that requests for one path share a single evaluation in flight, and each waits
/// for it only until its own deadline. A readiness check stuck behind a silent server therefore runs once,
/// however many probers ask meanwhile, and no other path ever waits for it.
final class ProbeRouteFlights: Sendable {
    private let inFlight = Mutex<[String: Task<ProbeResponse, Never>]>([:])

    /// The route's answer for `path`, or nil when it did not come within `timeout` (the evaluation
    /// carries on and later requests may still get it).
    func answer(path: String, route: @escaping ProbeServer.Route, within timeout: Duration) async -> ProbeResponse? {
        let flight = inFlight.withLock { flights -> Task<ProbeResponse, Never> in
            if let running = flights[path] { return running }
            let started = Task { await route() }
            flights[path] = started
            Task {
                _ = await started.value
                self.inFlight.withLock { flights in
                    if flights[path] == started { flights[path] = nil }
                }
            }
            return started
        }
        // Racing the flight against the deadline; leaving the group cancels only the waits, never the flight.
        return await withTaskGroup(of: ProbeResponse?.self) { group in
            group.addTask { await flight.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// How many routes are being evaluated now.
    var running: Int { inFlight.withLock { $0.count } }
}
