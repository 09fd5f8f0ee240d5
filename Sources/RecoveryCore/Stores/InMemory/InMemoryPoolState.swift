import Foundation

/// The pool's keyspace in memory, one role store per concern, as `RedisPoolState` is over Redis: the
/// same rules (token-checked writes, NX markers, compare-and-delete), with no server.
public struct InMemoryPoolState: Sendable {
    public let keyspace: InMemoryKeyspace
    public let leases: InMemoryLeaseStore
    public let states: InMemorySessionStates
    public let markers: InMemoryRecoveryMarkers
    public let arrivals: InMemoryJobArrivals
    public let reconcile: InMemoryReconcileReader
    public let leader: InMemoryLeaderLease
    public let workers: InMemoryWorkerRecords
    public let operatorView: InMemoryOperatorView

    public init(keyspace: InMemoryKeyspace = InMemoryKeyspace()) {
        self.keyspace = keyspace
        leases = InMemoryLeaseStore(keyspace: keyspace)
        states = InMemorySessionStates(keyspace: keyspace)
        markers = InMemoryRecoveryMarkers(keyspace: keyspace)
        arrivals = InMemoryJobArrivals(keyspace: keyspace)
        reconcile = InMemoryReconcileReader(keyspace: keyspace)
        leader = InMemoryLeaderLease(keyspace: keyspace)
        workers = InMemoryWorkerRecords(keyspace: keyspace)
        operatorView = InMemoryOperatorView(keyspace: keyspace)
    }

    /// The role stores by protocol.
    public var stores: PoolStores {
        PoolStores(leases: leases, states: states, markers: markers, arrivals: arrivals, reconcile: reconcile, leader: leader, workers: workers, operatorView: operatorView)
    }
}
