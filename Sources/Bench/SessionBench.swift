import ArgumentParser
import Foundation
import Glibc
import Synchronization
import Transport
import WebSocket

/// N concurrent idle WebSocket sessions in one process: memory per session, threads, ping-to-pong
/// latency and 1 KiB echo throughput, then the same for the PyPI `websockets` asyncio client.
struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Idle sessions held (RSS per session, threads), p99 ping-to-pong and 1 KiB echo, vs the websockets client."
    )

    @Option(help: "Concurrent idle sessions to hold.")
    var sessions = 10_000

    /// One by default, as the peer client has one: on a two-core machine the client and the echo server
    /// subprocess (which gets the same count) then have a core each, where two loops each make four
    /// threads take turns on two cores.
    @Option(help: "Event-loop threads of the session host (and of the echo server subprocess).")
    var threads = 1

    @Option(help: "Sessions that run the 1 KiB echo, each one message in flight at a time.")
    var echoSessions = 50

    @Option(help: "Seconds of echo.")
    var echoSeconds = 5.0

    @Option(help: "Echo rounds with a message handler, each followed by one of the websockets client (the ratio is their median).")
    var echoRounds = 5

    @Option(help: "Pings per second while measuring ping-to-pong over every session.")
    var pingRate = 5_000

    @Option(help: "A ws:// server to use instead of starting this bench's own echo server as a subprocess.")
    var server: String?

    @Flag(help: "Skip the websockets (Python) client comparison.")
    var skipPeer = false

    @Option(help: "Internal: serve echo sessions on this port (0 picks one) and print it.")
    var serve: Int?

    mutating func run() async throws {
        raiseDescriptorLimit()
        if let port = serve {
            try await runServer(port: port)
            return
        }
        guard sessions > 0, echoSessions > 0, echoSessions <= sessions, threads > 0, pingRate > 0, echoRounds > 0 else {
            throw ValidationError("--sessions, --echo-sessions (<= sessions), --echo-rounds, --threads and --ping-rate must be positive")
        }
        var serverProcess: Process?
        let url: String
        if let server {
            url = server
        } else {
            let (process, port) = try startServerProcess()
            serverProcess = process
            url = "ws://127.0.0.1:\(port)/bench"
        }
        defer { if let serverProcess, serverProcess.isRunning { kill(serverProcess.processIdentifier, SIGKILL) } }
        print("server: \(serverProcess == nil ? url : "own echo server subprocess at \(url)")")
        print("descriptor limit: \(descriptorLimit())")

        let serverPID = serverProcess?.processIdentifier
        let (ours, host, echoing) = try await measureOurs(url: url, serverPID: serverPID)
        defer { host.shutdown() }
        print("")
        print("swift client (\(threads) loop threads), \(sessions) sessions:")
        ours.printFigures()
        guard !skipPeer else {
            for session in echoing { session.close() }
            return
        }

        // The peer holds its sessions while ours, but for the echo sessions, are closed; then the echo
        // runs in turns, ours with a message handler and the peer's, so that each pair of rounds sees the
        // same load on the machine.
        let peerClient = try await PeerClient.start(
            url: url, serverPID: serverPID,
            arguments: ["--sessions", "\(sessions)", "--echo-sessions", "\(echoSessions)", "--echo-seconds", "\(echoSeconds)",
                        "--ping-rate", "\(pingRate)"])
        var peer = try await peerClient.setupFigures(sessions: sessions)
        var rounds: [(ours: Double, oursCPU: EchoCPU, peer: Double, peerCPU: EchoCPU)] = []
        let payload = String(repeating: "x", count: 1024)
        for _ in 0..<echoRounds {
            let start = EchoCPU.Mark(serverPID: serverPID)
            let echoed = try await echoThroughHandlers(echoing, payload: payload)
            let cpu = EchoCPU(from: start, to: EchoCPU.Mark(serverPID: serverPID), messages: echoed)
            let (peerRate, peerCPU) = try await peerClient.echoRound(serverPID: serverPID)
            rounds.append((Double(echoed) / echoSeconds, cpu, peerRate, peerCPU))
        }
        try await peerClient.finish()
        for session in echoing { session.close() }
        let middle = rounds.sorted { $0.ours / $0.peer < $1.ours / $1.peer }[rounds.count / 2]
        peer.echoPerSecond = middle.peer
        peer.echoCPU = middle.peerCPU
        print("")
        print("websockets \(peer.version) asyncio client, \(sessions) sessions:")
        peer.printFigures()
        print("")
        print("echo 1 KiB in turns, the swift client with a message handler, then the websockets client:")
        for (index, round) in rounds.enumerated() {
            print(String(format: "  round %d: %.0f vs %.0f messages/s (%.2fx); CPU per message: swift %@ | websockets %@",
                         index + 1, round.ours, round.peer, round.ours / round.peer, "\(round.oursCPU)", "\(round.peerCPU)"))
        }
        print("")
        print(String(format: "ratio: memory per session %.2fx of the peer's, echo %.2fx the peer's with a message handler (median of %d rounds in turn; %.2fx through the events stream, first), p99 ping %.2f ms vs %.2f ms",
                     ours.bytesPerSession / peer.bytesPerSession, middle.ours / middle.peer, rounds.count,
                     ours.echoPerSecond / middle.peer, ours.p99PingMs, peer.p99PingMs))
        print(String(format: "ratio: client CPU per echoed message %.2fx less than the peer's with a message handler (the median round), %.2fx through the events stream",
                     middle.peerCPU.clientMicros / middle.oursCPU.clientMicros,
                     middle.peerCPU.clientMicros / ours.echoCPU.clientMicros))
    }

    // MARK: Our client

    /// Our client's figures, its host, and the echo sessions, left open (the others are closed).
    private func measureOurs(url: String, serverPID: pid_t?) async throws -> (Figures, SessionHost, [WebSocketSession]) {
        let host = try SessionHost(threads: threads)
        let options = SessionOptions(connection: WebSocketConnection.Configuration(pingInterval: .seconds(25), silenceTimeout: .seconds(120)))
        // Warm up: code paths, the clock, one session's allocations.
        let warm = try await host.connect(url, options: options)
        warm.close()
        _ = await warm.waitUntilClosed()
        try await Task.sleep(for: .milliseconds(300))
        let rssBefore = residentBytes()
        let started = ContinuousClock.now
        var held: [WebSocketSession] = []
        held.reserveCapacity(sessions)
        var next = 0
        while next < sessions {
            let batch = min(500, sessions - next)
            let opened = try await withThrowingTaskGroup(of: WebSocketSession.self) { tasks in
                for _ in 0..<batch { tasks.addTask { try await host.connect(url, options: options) } }
                return try await tasks.reduce(into: [WebSocketSession]()) { $0.append($1) }
            }
            held += opened
            next += batch
        }
        let connectTime = ContinuousClock.now - started
        try await Task.sleep(for: .seconds(1))
        let rssHeld = residentBytes()
        let threadCount = taskCount()

        // Ping every session once, paced, and time each pong.
        let rtts = try await pingAll(held)

        // Echo 1 KiB messages on the first sessions, one in flight each: first through the events stream
        // (a task per session awaits each reply), then with a message handler (each reply sends the next
        // from the loop thread).
        let payload = String(repeating: "x", count: 1024)
        let echoSessionsHeld = Array(held.prefix(echoSessions))
        let eventsStart = EchoCPU.Mark(serverPID: serverPID)
        let deadline = ContinuousClock.now + .milliseconds(Int(echoSeconds * 1000))
        let echoed = await withTaskGroup(of: Int.self) { tasks in
            for session in echoSessionsHeld {
                tasks.addTask {
                    var iterator = session.events.makeAsyncIterator()
                    var count = 0
                    while ContinuousClock.now < deadline {
                        session.send(text: payload)
                        guard case .message? = await iterator.next() else { break }
                        count += 1
                    }
                    return count
                }
            }
            return await tasks.reduce(0, +)
        }
        let eventsCPU = EchoCPU(from: eventsStart, to: EchoCPU.Mark(serverPID: serverPID), messages: echoed)
        let handlerStart = EchoCPU.Mark(serverPID: serverPID)
        let handlerEchoed = try await echoThroughHandlers(echoSessionsHeld, payload: payload)
        let handlerCPU = EchoCPU(from: handlerStart, to: EchoCPU.Mark(serverPID: serverPID), messages: handlerEchoed)
        let threadsAfter = taskCount()
        for session in held.dropFirst(echoSessions) { session.close() }
        var waited = 0
        while host.sessionCount > echoSessions && waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        let figures = Figures(
            version: "", sessions: sessions, connectSeconds: connectTime.seconds,
            bytesPerSession: Double(rssHeld - rssBefore) / Double(sessions), threads: max(threadCount, threadsAfter),
            p50PingMs: percentile(rtts, 0.50), p99PingMs: percentile(rtts, 0.99), maxPingMs: rtts.max() ?? 0,
            echoPerSecond: Double(echoed) / echoSeconds, echoCPU: eventsCPU,
            handlerEchoPerSecond: Double(handlerEchoed) / echoSeconds, handlerEchoCPU: handlerCPU)
        return (figures, host, echoSessionsHeld)
    }

    /// Echo with a message handler per session for `echoSeconds`: every reply that arrives before the
    /// deadline sends the next message from the loop thread. Returns the replies counted before it.
    private func echoThroughHandlers(_ sessions: [WebSocketSession], payload: String) async throws -> Int {
        let replies = Atomic<Int>(0)
        let inFlight = Atomic<Int>(sessions.count)
        let stopAt = ContinuousClock.now + .milliseconds(Int(echoSeconds * 1000))
        for session in sessions {
            session.onMessage { session, _ in
                if ContinuousClock.now < stopAt {
                    replies.add(1, ordering: .relaxed)
                    session.send(text: payload)
                } else {
                    inFlight.subtract(1, ordering: .relaxed)
                }
            }
        }
        for session in sessions { session.send(text: payload) }
        try await Task.sleep(for: .milliseconds(Int(echoSeconds * 1000)))
        var waited = 0
        while inFlight.load(ordering: .relaxed) > 0 && waited < 100 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        return replies.load(ordering: .relaxed)
    }

    private func pingAll(_ held: [WebSocketSession]) async throws -> [Double] {
        let perTick = max(1, pingRate / 100)
        return try await withThrowingTaskGroup(of: Double.self) { tasks in
            for (index, session) in held.enumerated() {
                if index > 0 && index % perTick == 0 { try await Task.sleep(for: .milliseconds(10)) }
                tasks.addTask { try await session.ping().milliseconds }
            }
            return try await tasks.reduce(into: [Double]()) { $0.append($1) }
        }
    }

    // MARK: The peer client

    /// The `websockets` client in its own process: it opens and measures its sessions, then runs one echo
    /// round each time it is asked on its standard input.
    private final class PeerClient {
        private let process: Process
        private let commands: FileHandle
        private var lines: AsyncStream<String>.Iterator

        private init(process: Process, commands: FileHandle, lines: AsyncStream<String>) {
            self.process = process
            self.commands = commands
            self.lines = lines.makeAsyncIterator()
        }

        static func start(url: String, serverPID: pid_t?, arguments: [String]) async throws -> PeerClient {
            let script = NSTemporaryDirectory() + "session-bench-client-\(getpid()).py"
            try SessionBench.peerClientScript.write(toFile: script, atomically: true, encoding: .utf8)
            let process = Process()
            let output = Pipe()
            let input = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, url, "--server-pid", "\(serverPID ?? 0)"] + arguments
            process.standardOutput = output
            process.standardInput = input
            try process.run()
            let handle = output.fileHandleForReading
            let lines = AsyncStream<String> { continuation in
                Thread {
                    var pending = Data()
                    while true {
                        let chunk = handle.availableData
                        if chunk.isEmpty { break }
                        pending.append(chunk)
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                            pending.removeSubrange(pending.startIndex...newline)
                        }
                    }
                    try? FileManager.default.removeItem(atPath: script)
                    continuation.finish()
                }.start()
            }
            return PeerClient(process: process, commands: input.fileHandleForWriting, lines: lines)
        }

        /// The next JSON line the client prints.
        private func nextObject() async throws -> [String: Any] {
            while let line = await lines.next() {
                guard line.hasPrefix("{") else { continue }
                if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return object }
            }
            throw ValidationError(process.isRunning
                ? "the websockets client closed its output before its figures"
                : "the websockets client ended before its figures (status \(process.terminationStatus))")
        }

        private static func number(_ object: [String: Any], _ key: String) -> Double {
            (object[key] as? NSNumber)?.doubleValue ?? .nan
        }

        /// The figures of its sessions (echo figures still empty).
        func setupFigures(sessions: Int) async throws -> Figures {
            let json = try await nextObject()
            func number(_ key: String) -> Double { Self.number(json, key) }
            return Figures(
                version: json["version"] as? String ?? "?", sessions: sessions, connectSeconds: number("connect_seconds"),
                bytesPerSession: number("bytes_per_session"), threads: Int(number("threads")),
                p50PingMs: number("p50_ping_ms"), p99PingMs: number("p99_ping_ms"), maxPingMs: number("max_ping_ms"),
                echoPerSecond: .nan, echoCPU: EchoCPU(clientMicros: .nan, clientUserMicros: nil, serverMicros: nil, serverUserMicros: nil))
        }

        /// Runs one echo round: messages per second and CPU per message.
        func echoRound(serverPID: pid_t?) async throws -> (Double, EchoCPU) {
            commands.write(Data("echo\n".utf8))
            let json = try await nextObject()
            func number(_ key: String) -> Double { Self.number(json, key) }
            return (number("echo_per_second"),
                    EchoCPU(clientMicros: number("echo_client_cpu_us"), clientUserMicros: number("echo_client_user_us"),
                            serverMicros: serverPID == nil ? nil : number("echo_server_cpu_us"),
                            serverUserMicros: serverPID == nil ? nil : number("echo_server_user_us")))
        }

        /// Closes its sessions and waits for it to end.
        func finish() async throws {
            commands.write(Data("done\n".utf8))
            while await lines.next() != nil {}
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            guard process.terminationStatus == 0 else {
                throw ValidationError("the websockets client failed (status \(process.terminationStatus))")
            }
        }
    }

    // MARK: The echo server subprocess

    private func startServerProcess() throws -> (Process, Int) {
        try ServerSubprocess.start(["session", "--serve", "0", "--threads", "\(threads)"], what: "the echo server")
    }

    private func runServer(port: Int) async throws {
        let host = try SessionHost(threads: threads)
        let options = ServerOptions(connection: WebSocketConnection.Configuration(pingInterval: nil, silenceTimeout: nil))
        // Echoes from the loop thread: the server costs both clients as little as it can.
        let server = try host.listen(host: "127.0.0.1", port: port, options: options) { session, _ in
            session.onMessage { session, message in session.send(message) }
        }
        print("PORT \(server.port)")
        fflush(nil)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    // MARK: Figures

    struct Figures {
        var version: String
        var sessions: Int
        var connectSeconds: Double
        var bytesPerSession: Double
        var threads: Int
        var p50PingMs: Double
        var p99PingMs: Double
        var maxPingMs: Double
        var echoPerSecond: Double
        var echoCPU: EchoCPU
        /// Echo through a message handler (nil for the peer, which has one way).
        var handlerEchoPerSecond: Double? = nil
        var handlerEchoCPU: EchoCPU? = nil

        func printFigures() {
            print(String(format: "  connect all: %.2f s (%.0f sessions/s)", connectSeconds, Double(sessions) / connectSeconds))
            print(String(format: "  memory per session: %.0f bytes (RSS delta / N)", bytesPerSession))
            print("  threads: \(threads)")
            print(String(format: "  ping-to-pong: p50 %.3f ms, p99 %.3f ms, max %.3f ms", p50PingMs, p99PingMs, maxPingMs))
            if let handlerEchoPerSecond {
                print(String(format: "  echo 1 KiB: %.0f messages/s through the events stream, %.0f messages/s with a message handler", echoPerSecond, handlerEchoPerSecond))
            } else {
                print(String(format: "  echo 1 KiB: %.0f messages/s", echoPerSecond))
            }
            print("  CPU per echoed message: \(echoCPU)" + (handlerEchoCPU.map { " through the events stream, \($0) with a message handler" } ?? ""))
        }
    }

    // MARK: Process facts

    private func raiseDescriptorLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    private func descriptorLimit() -> UInt {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return UInt(limit.rlim_cur)
    }

    private func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }

    private func taskCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    private func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    /// The same measurement with the PyPI `websockets` asyncio client: one JSON line of its sessions' figures,
    /// then one per echo round asked for on standard input.
    static let peerClientScript = #"""
import argparse, asyncio, json, os, resource, sys, time
import websockets
from websockets.asyncio.client import connect

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int((len(values) - 1) * fraction))] if values else float("nan")

async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--echo-sessions", type=int, default=50)
    parser.add_argument("--echo-seconds", type=float, default=5.0)
    parser.add_argument("--ping-rate", type=int, default=5000)
    parser.add_argument("--server-pid", type=int, default=0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    options = dict(compression=None, ping_interval=25, ping_timeout=120, open_timeout=60)
    warm = await connect(args.url, **options)
    await warm.close()
    await asyncio.sleep(0.3)
    before = rss()
    started = time.monotonic()
    held = []
    while len(held) < args.sessions:
        batch = min(500, args.sessions - len(held))
        held += await asyncio.gather(*[connect(args.url, **options) for _ in range(batch)])
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(1)
    held_rss = rss()
    threads = len(os.listdir("/proc/self/task"))

    async def timed_ping(ws):
        sent = time.monotonic()
        waiter = await ws.ping()
        await waiter
        return (time.monotonic() - sent) * 1000

    per_tick = max(1, args.ping_rate // 100)
    pings = []
    for index, ws in enumerate(held):
        if index and index % per_tick == 0:
            await asyncio.sleep(0.01)
        pings.append(asyncio.ensure_future(timed_ping(ws)))
    rtts = await asyncio.gather(*pings)

    def server_cpu():
        if not args.server_pid:
            return (0.0, 0.0)
        with open(f"/proc/{args.server_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return ((int(fields[11]) + int(fields[12])) / tick, int(fields[11]) / tick)

    print(json.dumps(dict(
        version=websockets.__version__, connect_seconds=connect_seconds,
        bytes_per_session=(held_rss - before) / args.sessions, threads=threads,
        p50_ping_ms=percentile(rtts, 0.5), p99_ping_ms=percentile(rtts, 0.99), max_ping_ms=max(rtts))), flush=True)

    payload = "x" * 1024
    async def echo_round():
        client_cpu_before, client_user_before, server_cpu_before = time.process_time(), os.times().user, server_cpu()
        deadline = time.monotonic() + args.echo_seconds
        async def echo(ws):
            count = 0
            while time.monotonic() < deadline:
                await ws.send(payload)
                await ws.recv()
                count += 1
            return count
        echoed = sum(await asyncio.gather(*[echo(ws) for ws in held[:args.echo_sessions]]))
        client_cpu, client_user = time.process_time() - client_cpu_before, os.times().user - client_user_before
        server_after = server_cpu()
        server_cpu_spent, server_user = server_after[0] - server_cpu_before[0], server_after[1] - server_cpu_before[1]
        print(json.dumps(dict(
            echo_per_second=echoed / args.echo_seconds,
            echo_client_cpu_us=client_cpu * 1e6 / max(echoed, 1), echo_client_user_us=client_user * 1e6 / max(echoed, 1),
            echo_server_cpu_us=server_cpu_spent * 1e6 / max(echoed, 1), echo_server_user_us=server_user * 1e6 / max(echoed, 1))),
            flush=True)

    # One echo round per "echo" line on standard input, until "done" or its end.
    while True:
        command = (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()
        if command != "echo":
            break
        await echo_round()
    await asyncio.gather(*[ws.close() for ws in held])

asyncio.run(main())
"""#
}

