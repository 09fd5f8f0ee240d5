import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Transport

/// The scheduling of host-name lookups as a pure value: bounded, shared per name, each caller on its own deadline.
@Suite struct ResolutionScheduleTests {
    typealias Schedule = ResolutionSchedule<Int>
    private func key(_ host: String) -> Schedule.Key { Schedule.Key(host: host, port: 443) }

    @Test func atMostMaxActiveLookupsRunAndTheRestQueueInOrder() {
        var schedule = Schedule(maxActive: 2, maxRunning: 4)
        #expect(schedule.request(key("a"), waiter: 1, deadline: 100) == .start(key("a")))
        #expect(schedule.request(key("b"), waiter: 2, deadline: 100) == .start(key("b")))
        #expect(schedule.request(key("c"), waiter: 3, deadline: 100) == .queued)
        #expect(schedule.request(key("d"), waiter: 4, deadline: 100) == .queued)
        #expect(schedule.activeCount == 2)
        let (waiters, start) = schedule.finish(key("a"))
        #expect(waiters == [1])
        #expect(start == [key("c")])
        #expect(schedule.activeCount == 2)
        #expect(schedule.queuedCount == 1)
    }

    @Test func callersOfOneNameShareItsLookupRunningOrQueued() {
        var schedule = Schedule(maxActive: 1, maxRunning: 2)
        #expect(schedule.request(key("a"), waiter: 1, deadline: 100) == .start(key("a")))
        #expect(schedule.request(key("a"), waiter: 2, deadline: 100) == .joined)
        #expect(schedule.request(key("b"), waiter: 3, deadline: 100) == .queued)
        #expect(schedule.request(key("b"), waiter: 4, deadline: 100) == .joined)
        #expect(schedule.finish(key("a")).waiters.sorted() == [1, 2])
        #expect(schedule.finish(key("b")).waiters.sorted() == [3, 4])
        #expect(schedule.waiterCount == 0)
    }

    @Test func aLookupThatNeverReturnsCostsOnlyItsOwnCallersAndFreesItsSlotAtTheirDeadline() {
        var schedule = Schedule(maxActive: 1, maxRunning: 2)
        #expect(schedule.request(key("hangs"), waiter: 1, deadline: 100) == .start(key("hangs")))
        #expect(schedule.request(key("ok"), waiter: 2, deadline: 500) == .queued)
        // Before the deadline nothing expires; at it, only the caller of the silent name fails.
        #expect(schedule.expire(now: 99).expired.isEmpty)
        let (expired, start) = schedule.expire(now: 100)
        #expect(expired == [1])
        #expect(start == [key("ok")], "the abandoned lookup no longer holds the only active slot")
        #expect(schedule.abandonedCount == 1)
        #expect(schedule.finish(key("ok")).waiters == [2])
        // The silent lookup returning at last has nobody left to answer.
        #expect(schedule.finish(key("hangs")).waiters.isEmpty)
    }

    @Test func threadsStayBoundedWhenEveryNameHangs() {
        var schedule = Schedule(maxActive: 1, maxRunning: 2)
        #expect(schedule.request(key("a"), waiter: 1, deadline: 10) == .start(key("a")))
        _ = schedule.expire(now: 10)
        #expect(schedule.request(key("b"), waiter: 2, deadline: 20) == .start(key("b")))
        _ = schedule.expire(now: 20)
        // Two lookups run (both abandoned): a third name must wait for one of them to return.
        #expect(schedule.request(key("c"), waiter: 3, deadline: 30) == .queued)
        #expect(schedule.abandonedCount == 2)
        let (expired, start) = schedule.expire(now: 30)
        #expect(expired == [3])
        #expect(start.isEmpty)
        #expect(schedule.queuedCount == 0, "a queued lookup nobody waits for is dropped")
        #expect(schedule.finish(key("a")).start.isEmpty)
    }

    @Test func aQueuedCallerPastItsDeadlineIsDroppedAndTheNextQueuedStarts() {
        var schedule = Schedule(maxActive: 1, maxRunning: 1)
        _ = schedule.request(key("a"), waiter: 1, deadline: 1_000)
        _ = schedule.request(key("b"), waiter: 2, deadline: 50)
        _ = schedule.request(key("c"), waiter: 3, deadline: 1_000)
        #expect(schedule.expire(now: 50).expired == [2])
        #expect(schedule.finish(key("a")).start == [key("c")])
        #expect(schedule.nextDeadline == 1_000)
    }
}

/// The resolver with real threads: a lookup that never returns, injected, and the system's own.
@Suite struct HostResolverTests {
    @Test func aNameThatNeverResolvesFailsAloneNamingTheHostAndTheTimeoutWhileOtherNamesResolve() async throws {
        let release = DispatchSemaphore(value: 0)
        let resolver = HostResolver(maxActive: 2, maxRunning: 4) { host, port throws(TransportError) in
            if host == "silent.example" { release.wait() }
            return try SocketAddress.resolve(host: "127.0.0.1", port: port)
        }
        defer { release.signal() }
        let silentDone = Mutex(false)
        let clock = ContinuousClock()
        let started = clock.now
        async let silent = outcome(resolver, host: "silent.example", timeout: .milliseconds(1500)) { silentDone.withLock { $0 = true } }
        try await Task.sleep(for: .milliseconds(50))
        let other = await outcome(resolver, host: "other.example", timeout: .seconds(5))
        let otherAfter = clock.now - started
        let silentPendingWhenOtherAnswered = !silentDone.withLock { $0 }
        let silentResult = await silent
        let silentAfter = clock.now - started

        print("resolver figures: another name answered after \(otherAfter) while a silent one was pending; the silent one failed after \(silentAfter)")
        guard case .success(let addresses) = other else {
            Issue.record("the other name resolves: \(other)")
            return
        }
        #expect(addresses.first?.host == "127.0.0.1")
        #expect(silentPendingWhenOtherAnswered)
        guard case .failure(let error) = silentResult, case .resolutionFailed(let host, let reason) = error else {
            Issue.record("the silent name fails with a resolution error: \(silentResult)")
            return
        }
        #expect(host == "silent.example")
        #expect(reason.contains("1.5 seconds"))
        #expect("\(error)".contains("silent.example"))
    }

    @Test func aNameQueuedBehindASilentOneRunsOnceTheSilentOnesCallersGiveUp() async throws {
        let release = DispatchSemaphore(value: 0)
        let lookups = Mutex<[String]>([])
        let resolver = HostResolver(maxActive: 1, maxRunning: 2) { host, port throws(TransportError) in
            lookups.withLock { $0.append(host) }
            if host == "silent.example" { release.wait() }
            return try SocketAddress.resolve(host: "127.0.0.1", port: port)
        }
        defer { release.signal() }
        async let silent = outcome(resolver, host: "silent.example", timeout: .milliseconds(500))
        try await Task.sleep(for: .milliseconds(50))
        let queued = await outcome(resolver, host: "queued.example", timeout: .seconds(5))
        _ = await silent
        #expect((try? queued.get()) != nil)
        #expect(lookups.withLock { $0 } == ["silent.example", "queued.example"])
        #expect(resolver.counts.abandoned == 1, "the silent lookup still runs, holding no active slot")
    }

    @Test func callersOfOneNameShareOneLookup() async throws {
        let count = Mutex(0)
        let gate = DispatchSemaphore(value: 0)
        let resolver = HostResolver(maxActive: 4, maxRunning: 4) { _, port throws(TransportError) in
            count.withLock { $0 += 1 }
            gate.wait()
            return try SocketAddress.resolve(host: "127.0.0.1", port: port)
        }
        let results = Mutex<[Bool]>([])
        let done = DispatchGroup()
        for _ in 0..<5 {
            done.enter()
            resolver.resolve(host: "shared.example", port: 80, timeout: .seconds(10)) { result in
                results.withLock { $0.append((try? result.get()) != nil) }
                done.leave()
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        gate.signal()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(count.withLock { $0 } == 1)
        #expect(results.withLock { $0 } == [true, true, true, true, true])
    }

    @Test func localhostStillResolvesThroughTheSharedResolver() async throws {
        let result = await outcome(HostResolver.shared, host: "localhost", timeout: .seconds(5))
        let addresses = try result.get()
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.port == 8080 })
        #expect(addresses.contains { $0.host == "127.0.0.1" || $0.host == "::1" })
    }

    private func outcome(
        _ resolver: HostResolver, host: String, timeout: Duration, then done: @escaping @Sendable () -> Void = {}
    ) async -> Result<[SocketAddress], TransportError> {
        await withCheckedContinuation { continuation in
            resolver.resolve(host: host, port: 8080, timeout: timeout) { result in
                done()
                continuation.resume(returning: result)
            }
        }
    }
}
