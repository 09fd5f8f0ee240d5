/// Faults the simulator injects on demand, to exercise the pool's recovery paths.
struct FaultSwitches: Sendable, Hashable, Codable {
    /// Stop accepting TCP connections (the listener closes: clients see "connection refused").
    var refuseNew = false
    /// Hold each upgrade request this long before answering.
    var handshakeDelayMilliseconds = 0
    /// Answer every upgrade with this HTTP status (e.g. 401, 503) instead of 101; nil upgrades.
    var httpStatus: Int?

    init(refuseNew: Bool = false, handshakeDelayMilliseconds: Int = 0, httpStatus: Int? = nil) {
        self.refuseNew = refuseNew
        self.handshakeDelayMilliseconds = handshakeDelayMilliseconds
        self.httpStatus = httpStatus
    }
}
