import Foundation
import Synchronization
import Testing
@testable import AMQPClient
#if canImport(Glibc)
import Glibc
#endif

/// The watchdog against a real loopback TCP socket whose peer never reads: the situation of a broker that
/// stopped reading, where librabbitmq waits in `poll` for room to write with no deadline.
@Suite struct WriteWatchdogTests {
    /// A connected loopback pair: `writer` non-blocking with its send buffer full, `reader` never read.
    private static func stuffedPair() throws -> (writer: Int32, reader: Int32, listener: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 1) == 0 else { throw TestFailure("cannot listen on loopback: errno \(errno)") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let writer = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(writer, $0, length) } }
        let reader = accept(listener, nil, nil)
        guard connected == 0, reader >= 0 else { throw TestFailure("cannot connect on loopback: errno \(errno)") }
        _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) | O_NONBLOCK)
        let chunk = [UInt8](repeating: 0x41, count: 65_536)
        while chunk.withUnsafeBytes({ send(writer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 {}
        guard errno == EAGAIN || errno == EWOULDBLOCK else { throw TestFailure("filling the send buffer: errno \(errno)") }
        return (writer, reader, listener)
    }

    @Test func aWriteWaitingOnAFullSocketEndsWhenTheDeadlinePasses() async throws {
        let (writer, reader, listener) = try Self.stuffedPair()
        defer { [writer, reader, listener].forEach { _ = close($0) } }
        let watchdog = WriteWatchdog(name: "test", checkInterval: .milliseconds(50))
        defer { watchdog.stop() }

        // As librabbitmq does: wait for room with no deadline, then write; on a thread of its own, so a
        // watchdog that never cuts fails the test instead of hanging it.
        watchdog.watch(descriptor: writer, for: .milliseconds(300), activity: "publishing")
        let started = ContinuousClock.now
        let outcome = Mutex<Int?>(nil)
        Thread {
            var pollfd = pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pollfd, 1, -1)
            let sent = [UInt8](repeating: 0x42, count: 1024).withUnsafeBytes { send(writer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            outcome.withLock { $0 = sent }
        }.start()
        let ended = await eventually(within: .seconds(10)) { outcome.withLock { $0 != nil } }
        if !ended { _ = shutdown(writer, Int32(SHUT_RDWR)) }
        #expect(ended, "the write stuck on a full socket did not end within 10 s")
        let written = outcome.withLock { $0 } ?? 0
        watchdog.unwatch()
        print("write watchdog: a write stuck on a full socket failed after \(ContinuousClock.now - started)")
        #expect(written < 0, "the write must fail once the socket is shut down")
        #expect(watchdog.takeCut()?.contains("spent 0.3 s publishing") == true)
        #expect(watchdog.takeCut() == nil, "a cut is reported once")
    }

    @Test func aSectionLeftInTimeIsNeverCut() async throws {
        let (writer, reader, listener) = try Self.stuffedPair()
        defer { [writer, reader, listener].forEach { _ = close($0) } }
        let watchdog = WriteWatchdog(name: "test", checkInterval: .milliseconds(20))
        defer { watchdog.stop() }

        watchdog.watch(descriptor: writer, for: .milliseconds(100), activity: "publishing")
        watchdog.unwatch()
        try await Task.sleep(for: .milliseconds(300))
        #expect(watchdog.takeCut() == nil)
        // Still open for writing: reading on the other side makes room again.
        var buffer = [UInt8](repeating: 0, count: 262_144)
        _ = recv(reader, &buffer, buffer.count, 0)
        var pollfd = pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)
        _ = poll(&pollfd, 1, 1000)
        #expect(pollfd.revents & Int16(POLLERR | POLLHUP) == 0)
    }
}

/// Polls `condition` until it holds or `timeout` passes; whether it held.
private func eventually(within timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}
