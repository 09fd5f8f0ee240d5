import Synchronization

/// Whether the broker has blocked this connection's publishing (`connection.blocked`, sent under a memory
/// or disk alarm) and why. The connection thread writes it; callers read it through `AMQPConnection`, so a
/// process can say in its health output why its publishes go unconfirmed.
final class PublishingBlockState: Sendable {
    private let reason = Mutex<String?>(nil)

    /// The broker's reason while publishing is blocked, nil otherwise.
    var blockedReason: String? { reason.withLock { $0 } }

    func set(_ newReason: String?) {
        reason.withLock { $0 = newReason }
    }
}
