/// Every role store of one keyspace, by protocol: what the scheduler and the operator tools are given,
/// whether the keyspace is Redis (`RedisPoolState`) or memory (`InMemoryPoolState`).
public struct PoolStores: Sendable {
    public let leases: any LeaseStore
    public let states: any SessionStates
    public let markers: any RecoveryMarkers
    public let arrivals: any JobArrivals
    public let reconcile: any ReconcileReader
    public let leader: any LeaderLease
    public let workers: any WorkerRecords
    public let operatorView: any OperatorView

    public init(
        leases: any LeaseStore, states: any SessionStates, markers: any RecoveryMarkers, arrivals: any JobArrivals, reconcile: any ReconcileReader,
        leader: any LeaderLease, workers: any WorkerRecords, operatorView: any OperatorView
    ) {
        self.leases = leases
        self.states = states
        self.markers = markers
        self.arrivals = arrivals
        self.reconcile = reconcile
        self.leader = leader
        self.workers = workers
        self.operatorView = operatorView
    }
}
