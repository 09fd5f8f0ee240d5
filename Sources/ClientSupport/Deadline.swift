/// Runs `operation` with a deadline. Returns `onTimeout` when it has not finished in time
/// (the operation is cancelled and not awaited, so an operation that ignores cancellation cannot hold
/// the caller past the deadline) and `onCancel` when the caller is cancelled.
public func withDeadline<T: Sendable>(
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
