import ClientSupport
import Synchronization
import Testing

/// A wait that ignores cancellation, as a command to a silent server does until its own timeout.
private final class Gate: Sendable {
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let entered = Promise<Void>()

    func pass() async {
        await withCheckedContinuation { continuation in
            waiter.withLock { $0 = continuation }
            entered.fulfill(.success(()))
        }
    }

    func waitUntilEntered() async throws { try await entered.value() }

    func open() { waiter.withLock { $0.take() }?.resume() }
}

@Suite("Until cancelled")
struct UntilCancelledTests {
    @Test("returns when the operation ends")
    func returnsWhenTheOperationEnds() async {
        let ran = Mutex(false)
        await untilCancelled { ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 })
    }

    @Test("a cancelled caller returns while the operation still waits, and the operation is cancelled too")
    func aCancelledCallerDoesNotWaitForTheOperation() async throws {
        let gate = Gate()
        let sawCancellation = Promise<Bool>()
        let caller = Task {
            await untilCancelled {
                await gate.pass()
                sawCancellation.fulfill(.success(Task.isCancelled))
            }
        }
        try await gate.waitUntilEntered()
        caller.cancel()
        // Bounded only so that a caller that awaits the operation fails the test instead of hanging it.
        let returned = await withDeadline(.seconds(30), onTimeout: { false }, onCancel: { false }) {
            await caller.value
            return true
        }
        #expect(returned)
        #expect(!sawCancellation.isFulfilled)
        gate.open()
        #expect(try await sawCancellation.value())
    }
}
