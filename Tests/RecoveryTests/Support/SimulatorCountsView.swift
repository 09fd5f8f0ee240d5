/// What the fault scenarios read of the simulator's `/counts`: its counters without the session list,
/// cheap enough to poll every 200 ms while hundreds of sessions are held.
struct SimulatorCountsView: Decodable {
    var connectedCount: Int
    var connects: Int
    var evictions: Int
    var disconnects: Int
    var closesAfterOpen: Int
}
