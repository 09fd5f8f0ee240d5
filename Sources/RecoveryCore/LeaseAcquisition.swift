/// How an attempt to take an endpoint's lease ended.
public enum LeaseAcquisition: Sendable, Equatable {
    /// Taken, with its fencing number.
    case acquired(fence: Int)
    /// Someone holds the lease (another worker, or the original platform while it connects).
    case heldByAnother
    /// The endpoint has a live session that is not the pool's (the original platform's, Connected or
    /// Connecting with a fresh heartbeat): connecting would evict it.
    case foreignSessionLive

    /// The fencing number when taken.
    public var fence: Int? {
        if case .acquired(let fence) = self { return fence }
        return nil
    }

    /// The script's reply: the fence (≥ 1), 0 held, -1 a foreign live session.
    public init(scriptReply: Int64) {
        switch scriptReply {
        case 1...: self = .acquired(fence: Int(scriptReply))
        case -1: self = .foreignSessionLive
        default: self = .heldByAnother
        }
    }
}
