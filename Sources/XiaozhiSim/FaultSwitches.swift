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

    private enum CodingKeys: String, CodingKey {
        case refuseNew, handshakeDelayMilliseconds, httpStatus
    }

    /// Always writes `httpStatus`, as null when off, so the status shows every switch.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(refuseNew, forKey: .refuseNew)
        try container.encode(handshakeDelayMilliseconds, forKey: .handshakeDelayMilliseconds)
        try container.encode(httpStatus, forKey: .httpStatus)
    }
}
