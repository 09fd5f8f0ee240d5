import Dispatch
import Synchronization

/// Runs probe routes so that requests for one path share a single evaluation in flight, and each waits
/// for it only until its own deadline. A readiness check stuck behind a silent server therefore runs once,
/// however many probers ask meanwhile, and no other path ever waits for it.
final class ProbeRouteFlights: Sendable {
    /// One evaluation of a route; every request for its path while it runs waits on it.
    private final class Flight: @unchecked Sendable {
        let finished = DispatchGroup()
        // Written once before `finished` is left and read only after it is, so the group orders the accesses.
        var response: ProbeResponse?

        init() { finished.enter() }

        func finish(_ response: ProbeResponse) {
            self.response = response
            finished.leave()
        }
    }

    private let inFlight = Mutex<[String: Flight]>([:])

    /// The route's answer for `path`, or nil when it did not come within `timeout` (the evaluation
    /// carries on and later requests may still get it). Blocks the calling thread, never a task's.
    func answer(path: String, route: @escaping ProbeServer.Route, within timeout: Duration) -> ProbeResponse? {
        let flight = inFlight.withLock { flights -> Flight in
            if let running = flights[path] { return running }
            let started = Flight()
            flights[path] = started
            Task {
                let response = await route()
                self.inFlight.withLock { flights in
                    if flights[path] === started { flights[path] = nil }
                }
                started.finish(response)
            }
            return started
        }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard flight.finished.wait(timeout: .now() + .nanoseconds(Int(max(0, nanoseconds)))) == .success else { return nil }
        return flight.response
    }

    /// How many routes are being evaluated now.
    var running: Int { inFlight.withLock { $0.count } }
}
