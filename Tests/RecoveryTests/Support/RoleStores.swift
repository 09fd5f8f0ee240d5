import Foundation
import RecoveryCore
import RedisClient
import Synchronization
import Testing
@testable import Recovery

/// Which implementation of the role stores a contract test runs against.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The Redis stores on the test servers' default database.
    case redis
    /// The in-memory stores, on a clock the test moves.
    case memory

    var testDescription: String { rawValue }
}

/// A clock that moves only when told to.
final class ManualClock: Sendable {
    private let current = Mutex(Date())

    func now() -> Date { current.withLock { $0 } }

    func advance(by duration: Duration) {
        current.withLock { $0 += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
    }
}

/// Every role store of one backend, seen through its protocols only (`PoolStores`), and the backend's clock.
@dynamicMemberLookup
struct RoleStores: Sendable {
    let backend: StoreBackend
    let stores: PoolStores
    private let clock: ManualClock?

    subscript<Store>(dynamicMember role: KeyPath<PoolStores, Store>) -> Store { stores[keyPath: role] }

    static func make(_ backend: StoreBackend) async throws -> RoleStores {
        switch backend {
        case .redis:
            let redis = try await RedisClient.connect(url: try requiredEnvironment("REDIS_URL"))
            return RoleStores(backend: backend, stores: RedisPoolState(redis: redis).stores, clock: nil)
        case .memory:
            let clock = ManualClock()
            return RoleStores(backend: backend, stores: InMemoryPoolState(keyspace: InMemoryKeyspace(clock: { clock.now() })).stores, clock: clock)
        }
    }

    /// Lets `duration` pass on the stores' clock: the in-memory clock moves; Redis is waited for.
    func pass(_ duration: Duration) async throws {
        if let clock { clock.advance(by: duration) } else { try await Task.sleep(for: duration) }
    }

    /// A full read of `ids` with a fresh copy of the held-sessions index (on the shared Redis it also holds
    /// other tests' indexed ids, parks and clocks: look up `ids` only).
    func observe(_ ids: [EndpointID]) async throws -> RedisObservation {
        var cache = HeldSessionsCache()
        return try await stores.reconcile.observe(enabled: ids.map { EnabledEndpoint(id: $0, name: $0.rawValue, updatedAt: nil) }, cache: &cache, fullRead: true)
    }
}
