import Foundation
import RecoveryCore
import Synchronization

/// The latest confirmation of a job's lease while its session opens, shared by the renewals and the watch.
final class LeaseConfirmation: Sendable {
    private let sentAt: Mutex<ContinuousClock.Instant>

    init(sentAt: ContinuousClock.Instant) {
        self.sentAt = Mutex(sentAt)
    }

    /// When the request behind the latest confirmation was sent.
    var latest: ContinuousClock.Instant { sentAt.withLock { $0 } }

    func confirmed(sentAt instant: ContinuousClock.Instant) {
        sentAt.withLock { if instant > $0 { $0 = instant } }
    }
}

extension WorkerRuntime {
    /// An open under the lease that was cut short, and why.
    struct ConnectInterrupted: Error {
        let cause: FailureCause
    }

    /// Runs `open` while the job's lease is renewed every renewal interval, and cancels it when the whole
    /// open outlasts `Worker:ConnectTimeoutSeconds` or the lease goes unconfirmed past its local deadline
    /// (a slow Xiaozhi never outlasts the lease; an unreachable Redis never leaves a session opening
    /// without one). Returns the session, or throws the failure; a session that opened after the
    /// interruption is closed.
    func openUnderLease(
        endpointId: EndpointID, token: String, confirmation: LeaseConfirmation, store: PoolStores,
        open: @escaping @Sendable () async throws -> HeldSession
    ) async throws -> HeldSession {
        enum Outcome: Sendable {
            case opened(Result<HeldSession, any Error>)
            case interrupted(FailureCause)
        }
        let timing = leaseTiming
        let connectDeadline = ContinuousClock.now + .seconds(configuration.connectTimeoutSeconds)
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do { return .opened(.success(try await open())) } catch { return .opened(.failure(error)) }
            }
            group.addTask {
                // Renewals: a lease found gone while connecting means another holder may be connecting too.
                while true {
                    try await Task.sleep(for: timing.renewalInterval)
                    let sentAt = ContinuousClock.now
                    guard let lost = try? await store.leases.renew([endpointId: token], ttl: timing.ttl) else { continue }
                    if lost.contains(endpointId) { return .interrupted(.other("lease lost while connecting")) }
                    confirmation.confirmed(sentAt: sentAt)
                }
            }
            group.addTask {
                // The watch: never blocked by a renewal that hangs.
                while true {
                    let now = ContinuousClock.now
                    if now >= connectDeadline { return .interrupted(.timeout(phase: "connect (whole open)")) }
                    let leaseDeadline = timing.localDeadline(confirmedBy: confirmation.latest)
                    if now >= leaseDeadline { return .interrupted(.other("lease renewal not confirmed while connecting")) }
                    try await Task.sleep(until: min(connectDeadline, leaseDeadline, now + .milliseconds(100)), clock: .continuous)
                }
            }
            let first = try await group.next()!
            group.cancelAll()
            switch first {
            case .opened(let result):
                return try result.get()
            case .interrupted(let cause):
                // The open may still finish before it sees the cancellation: such a session is closed.
                while !group.isEmpty {
                    if case .opened(.success(let held))? = try? await group.next() {
                        held.mcp.close()
                        held.session.close(code: .goingAway, reason: "connect interrupted")
                    }
                }
                throw ConnectInterrupted(cause: cause)
            }
        }
    }
}
