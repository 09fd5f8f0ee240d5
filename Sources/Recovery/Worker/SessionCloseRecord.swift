import RecoveryCore
import Synchronization

/// Why a held session's connection ended, once known: a session that closes before it is handed to the
/// keeper cannot be ended by its serving task, so the job that opened it ends it with this cause instead.
final class SessionCloseRecord: Sendable {
    private let recorded = Mutex<FailureCause?>(nil)

    var cause: FailureCause? { recorded.withLock { $0 } }

    func record(_ cause: FailureCause) {
        recorded.withLock { if $0 == nil { $0 = cause } }
    }
}
