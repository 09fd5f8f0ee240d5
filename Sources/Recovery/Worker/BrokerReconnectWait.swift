import AMQPClient
import RecoveryCore

/// A job's publish (its result, its retry, its dead letter) may find the worker's publishing connection
/// still reconnecting after a broker restart while the consuming one is back. Giving the delivery back at
/// once then brings it straight back, over and over, until the jobs queue's delivery limit dead-letters a
/// job that had succeeded. Such a publish is instead tried again while the connection comes back, with
/// growing pauses (0.2 s doubling, a second at most), for at most `patience`, and not once the worker is stopping; the delivery stays
/// unacknowledged meanwhile, so nothing is lost if the worker dies.
enum BrokerReconnectWait {
    /// Whether `error` says the broker connection is away (lost, refused while reconnecting, or silent),
    /// as opposed to the broker refusing the message.
    static func isConnectionAway(_ error: any Error) -> Bool {
        switch error as? AMQPError {
        case .connectionLost?, .connectionFailed?, .timedOut?: true
        default: false
        }
    }

    /// `body`, run again after each connection-away failure until it succeeds, `patience` has passed,
    /// or `stopping` says so; the last failure is thrown.
    static func run<T: Sendable>(
        patience: Duration = .seconds(30), pause: (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        stopping: () -> Bool, _ body: () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + patience
        var backoff = Backoff()
        while true {
            do {
                return try await body()
            } catch where isConnectionAway(error) && !stopping() && ContinuousClock.now < deadline {
                // At most a second between tries: the connection reconnects on its own schedule.
                try await pause(min(backoff.next(), .seconds(1)))
            }
        }
    }
}
