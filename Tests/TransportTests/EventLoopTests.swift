import Foundation
import Glibc
import Synchronization
import Testing
@testable import Transport

/// Writes `payload` once open and collects bytes until as many came back, or the connection ends.
private final class EchoProbe: ConnectionHandler, @unchecked Sendable {
    let payload: [UInt8]
    var received: [UInt8] = []
    var continuation: CheckedContinuation<Result<[UInt8], TransportError>, Never>?
    var connection: Connection?

    init(payload: [UInt8]) { self.payload = payload }

    func connectionDidOpen(_ connection: Connection) { connection.write(payload) }

    func connection(_ connection: Connection, didReceive bytes: UnsafeMutableRawBufferPointer) {
        received += bytes
        if received.count >= payload.count {
            connection.close()
            finish(.success(received))
        }
    }

    func connection(_ connection: Connection, didCloseWith error: TransportError?) {
        finish(.failure(error ?? .closed))
    }

    func finish(_ result: Result<[UInt8], TransportError>) {
        continuation?.resume(returning: result)
        continuation = nil
        connection = nil
    }
}

/// Opens a connection on `loop`, sends `payload` and waits for the echo or the failure.
private func echo(on loop: EventLoop, host: String, port: Int, tls: TLSContext? = nil,
                  timeouts: ConnectTimeouts = ConnectTimeouts(), payload: [UInt8]) async -> Result<[UInt8], TransportError> {
    await withCheckedContinuation { continuation in
        loop.execute {
            let probe = EchoProbe(payload: payload)
            probe.continuation = continuation
            probe.connection = Connection.connect(host: host, port: port, tls: tls, timeouts: timeouts, on: loop, handler: probe)
        }
    }
}

@Suite("The epoll event loop and its connections")
struct EventLoopTests {
    @Test("work submitted from many tasks runs on the loop's thread, in order per submitter")
    func executeFromManyTasks() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.next()
        let seen = Locked<[Int]>([])
        await withTaskGroup(of: Void.self) { tasks in
            for n in 0..<50 {
                tasks.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        loop.execute {
                            #expect(loop.inLoop)
                            seen.update { $0.append(n) }
                            done.resume()
                        }
                    }
                }
            }
        }
        #expect(seen.value.sorted() == Array(0..<50))
    }

    @Test("timers fire in deadline order and cancelled timers never fire")
    func timersFireInOrder() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.next()
        let fired = Locked<[String]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute {
                loop.schedule(after: .milliseconds(60)) { fired.update { $0.append("late") }; done.resume() }
                loop.schedule(after: .milliseconds(10)) { fired.update { $0.append("early") } }
                let cancelled = loop.schedule(after: .milliseconds(30)) { fired.update { $0.append("cancelled") } }
                loop.schedule(after: .milliseconds(20)) { fired.update { $0.append("middle") } }
                cancelled.cancel()
            }
        }
        #expect(fired.value == ["early", "middle", "late"])
    }

    @Test("plain TCP echo through the socket streams on the loop")
    func plainEcho() async throws {
        let peer = try await PeerProcess(script: "tcp_peer.py")
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let result = await echo(on: group.next(), host: "127.0.0.1", port: peer.port, payload: payload)
        #expect(try result.get() == payload)
    }

    @Test("TLS echo on the loop, handshake driven by readiness")
    func tlsEcho() async throws {
        let certs = try TestCertificates.make()
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--cert", certs.localhostCert, "--key", certs.localhostKey])
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let context = try TLSContext.client(TLSConfiguration(extraCAFile: certs.caFile))
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let result = await echo(on: group.next(), host: "localhost", port: peer.port, tls: context, payload: payload)
        #expect(try result.get() == payload)
    }

    @Test("a refused port fails the connection with refused")
    func refusedOnLoop() async throws {
        let port = try closedLoopbackPort()
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = await echo(on: group.next(), host: "127.0.0.1", port: port, payload: [1])
        #expect(throws: TransportError.refused(host: "127.0.0.1", port: port)) { try result.get() }
    }

    @Test("a connect that gets no answer times out in the connect phase")
    func connectTimeout() async throws {
        // A listener with a full accept queue drops further SYNs, so the next connect hangs.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 0)
        let port = try #require(Socket.localAddress(listener)).port
        let target = try SocketAddress.resolve(host: "127.0.0.1", port: port)[0]
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<4 {
            let fd = try Socket.makeNonBlocking(family: AF_INET)
            _ = Socket.startConnect(fd, to: target)
            fillers.append(fd)
        }
        try await Task.sleep(for: .milliseconds(50))
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = await echo(on: group.next(), host: "127.0.0.1", port: port,
                                timeouts: ConnectTimeouts(connect: .milliseconds(300)), payload: [1])
        #expect(throws: TransportError.timeout(phase: .connect, host: "127.0.0.1", port: port)) { try result.get() }
    }

    @Test("a TLS handshake the server never answers times out in the TLS phase on the loop")
    func tlsTimeoutOnLoop() async throws {
        let peer = try await PeerProcess(script: "tcp_peer.py", arguments: ["--mode", "silent"])
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = await echo(on: group.next(), host: "127.0.0.1", port: peer.port, tls: try TLSContext.client(.default),
                                timeouts: ConnectTimeouts(tls: .milliseconds(300)), payload: [1])
        #expect(throws: TransportError.timeout(phase: .tls, host: "127.0.0.1", port: peer.port)) { try result.get() }
    }

    @Test("an unresolvable host name fails with the resolver's reason")
    func unresolvableHost() async throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = await echo(on: group.next(), host: "nothing-here.invalid", port: 80, payload: [1])
        guard case .failure(.resolutionFailed(let host, _)) = result else {
            Issue.record("expected a resolution failure, got \(result)")
            return
        }
        #expect(host == "nothing-here.invalid")
    }

    @Test("many connections share one loop thread")
    func manyConnectionsOneLoop() async throws {
        let peer = try await PeerProcess(script: "tcp_peer.py")
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.next()
        let results = await withTaskGroup(of: Bool.self) { tasks in
            for n in 0..<100 {
                tasks.addTask {
                    let payload = Array("connection \(n)".utf8)
                    return (try? await echo(on: loop, host: "127.0.0.1", port: peer.port, payload: payload).get()) == payload
                }
            }
            return await tasks.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0 })
    }
}

@Suite("An event loop after shutdown")
struct EventLoopShutdownTests {
    @Test("work submitted after shutdown is dropped and writes to no descriptor the process opens since")
    func executeAfterShutdown() throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.next()
        group.shutdown()
        // Descriptors opened now take the lowest free numbers: had the loop closed its own, these would
        // reuse them, and a late wake-up would write into one of them.
        var pipes: [(read: Int32, write: Int32)] = []
        for _ in 0..<4 {
            var ends: [Int32] = [0, 0]
            #expect(pipe(&ends) == 0)
            #expect(fcntl(ends[0], F_SETFL, O_NONBLOCK) == 0)
            pipes.append((ends[0], ends[1]))
        }
        defer { for ends in pipes { close(ends.read); close(ends.write) } }
        let ran = Atomic<Int>(0)
        for _ in 0..<10 { loop.execute { ran.add(1, ordering: .relaxed) } }
        usleep(50_000)
        #expect(ran.load(ordering: .relaxed) == 0)
        for ends in pipes {
            var byte: UInt8 = 0
            #expect(read(ends.read, &byte, 1) == -1, "pipe \(ends.read) received a stray write")
        }
        loop.shutdown()
    }
}

@Suite("An event loop whose epoll descriptor is taken away")
struct EventLoopBrokenDescriptorTests {
    @Test("stops the process with the reason rather than leaving its sessions waiting")
    func epollClosedFromOutside() async {
        await #expect(processExitsWith: .failure) {
            let group = try EventLoopGroup(threads: 1)
            let loop = group.loops[0]
            // What a double close elsewhere in the process would do.
            close(loop.epollFD)
            // Wake the loop: its wait in progress returns, and the next one fails.
            loop.execute {}
            sleep(10)
        }
    }
}
