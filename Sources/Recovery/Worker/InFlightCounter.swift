import Synchronization

/// Work in progress that a graceful shutdown waits for before the process lets its connections go: each
/// `begin` is matched by one `end`.
final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)

    func begin() { count.add(1, ordering: .acquiringAndReleasing) }
    func end() { count.subtract(1, ordering: .acquiringAndReleasing) }

    /// Work begun and not yet ended.
    var current: Int { count.load(ordering: .acquiring) }

    /// Waits until nothing is in flight, for at most `limit` (less when the task is cancelled); whether
    /// nothing is.
    func waitUntilIdle(within limit: Duration, checkEvery interval: Duration = .milliseconds(10)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while current > 0 && clock.now < deadline {
            do { try await Task.sleep(for: interval) } catch { break }
        }
        return current == 0
    }
}
