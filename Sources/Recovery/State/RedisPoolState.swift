import RecoveryCore
import RedisClient

/// The pool's keyspace in Redis (SPEC §5), one role store per concern, all on one connection.
public struct RedisPoolState: Sendable {
    public let redis: RedisClient
    public let leases: RedisLeaseStore
    public let states: RedisSessionStates
    public let markers: RedisRecoveryMarkers
    public let arrivals: RedisJobArrivals
    public let reconcile: RedisReconcileReader
    public let leader: RedisLeaderLease
    public let workers: RedisWorkerRecords
    public let operatorView: RedisOperatorView

    /// `acquireReplicas`: replicas that must acknowledge each taken lease (`Redis:AcquireReplicas`) within
    /// `acquireReplicaTimeout`.
    public init(redis: RedisClient, acquireReplicas: Int = 0, acquireReplicaTimeout: Duration = .milliseconds(250)) {
        self.redis = redis
        leases = RedisLeaseStore(redis: redis, acquireReplicas: acquireReplicas, acquireReplicaTimeout: acquireReplicaTimeout)
        states = RedisSessionStates(redis: redis)
        markers = RedisRecoveryMarkers(redis: redis)
        arrivals = RedisJobArrivals(redis: redis)
        reconcile = RedisReconcileReader(redis: redis)
        leader = RedisLeaderLease(redis: redis)
        workers = RedisWorkerRecords(redis: redis)
        operatorView = RedisOperatorView(redis: redis)
    }

    /// The role stores by protocol.
    public var stores: PoolStores {
        PoolStores(leases: leases, states: states, markers: markers, arrivals: arrivals, reconcile: reconcile, leader: leader, workers: workers, operatorView: operatorView)
    }
}
