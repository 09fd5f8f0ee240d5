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

/// Runs `operation` until it ends or the caller is cancelled. On cancellation it returns at once: the
/// operation is cancelled and not awaited, so a last call to a server that no longer answers cannot hold
/// the caller for that call's whole timeout.
public func untilCancelled(_ operation: @escaping @Sendable () async -> Void) async {
    let ended = Promise<Void>()
    let work = Task {
        await operation()
        ended.fulfill(.success(()))
    }
    defer { work.cancel() }
    _ = try? await ended.value()
}
