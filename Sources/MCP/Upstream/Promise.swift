import Synchronization

/// A value delivered once by one party and awaited by another; awaiting is cancellable.
final class Promise<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, any Error>?
        var waiters: [CheckedContinuation<Value, any Error>] = []
    }

    private let state = Mutex(State())

    /// Delivers the result; later deliveries are ignored. Returns false when one was already delivered.
    @discardableResult
    func fulfill(_ result: Result<Value, any Error>) -> Bool {
        let waiters: [CheckedContinuation<Value, any Error>]? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(with: result) }
        return true
    }

    var isFulfilled: Bool { state.withLock { $0.result != nil } }

    /// Waits for the result; cancelling the waiting task delivers `CancellationError`.
    func value() async throws -> Value {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<Value, any Error>? = state.withLock { state in
                    if let result = state.result { return result }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            fulfill(.failure(CancellationError()))
        }
    }
}

/// Runs `operation` with a deadline. Returns `onTimeout` when it has not finished in time
/// (the operation is cancelled and not awaited) and `onCancel` when the caller is cancelled.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    onTimeout: @escaping @Sendable () -> T,
    onCancel: @escaping @Sendable () -> T,
    operation: @escaping @Sendable () async -> T
) async -> T {
    let promise = Promise<T>()
    let work = Task { promise.fulfill(.success(await operation())) }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        if !Task.isCancelled { promise.fulfill(.success(onTimeout())) }
    }
    defer {
        work.cancel()
        timer.cancel()
    }
    do {
        return try await promise.value()
    } catch {
        return onCancel()
    }
}
