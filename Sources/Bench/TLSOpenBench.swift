import ArgumentParser
import Foundation
import Glibc
import Recovery
import Transport
import WebSocket

/// `bench tls-open`: N `wss://` sessions opened, closed and re-opened against one TLS WebSocket server
/// (a subprocess of this bench, ECDSA P-256 certificate from a throwaway CA), by this project's client
/// and, in the same run, by the PyPI `websockets` client with Python's `ssl`: the first opens are full
/// handshakes, the re-opens may resume the TLS session.
struct TLSOpenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-open",
        abstract: "wss:// sessions opened and re-opened per second (TLS session resumption), versus websockets with ssl.")

    @Option(help: "Sessions opened, closed and opened again.")
    var sessions = 10_000

    @Option(help: "Handshakes in flight at once (each side).")
    var concurrency = 256

    @Flag(help: "Skip the websockets (Python) client.")
    var skipPeer = false

    @Option(help: "Internal: serve wss on this port (0 picks one) with --cert and --key, and print it.")
    var serve: Int?

    @Option(help: "Internal: the server's certificate chain (PEM).")
    var cert: String?

    @Option(help: "Internal: the server's private key (PEM).")
    var key: String?

    mutating func run() async throws {
        _ = DescriptorLimit.raise(toAtLeast: 2 * sessions + 256)
        if let serve, let cert, let key {
            try await runServer(port: serve, cert: cert, key: key)
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xz-tls-open-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.makeCertificates(in: directory.path)
        let (server, port) = try startServer(directory: directory.path)
        defer { kill(server.processIdentifier, SIGKILL) }
        let url = "wss://localhost:\(port)/mcp/"
        let caFile = directory.appendingPathComponent("ca.pem").path

        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let options = SessionOptions(tls: TLSConfiguration(extraCAFile: caFile, useSystemStore: false))
        print("tls-open: \(sessions) wss:// sessions, \(concurrency) handshakes at once, ECDSA P-256 certificate, server in a subprocess (1 loop thread)")
        var rounds: [(String, Round)] = []
        for phase in ["open", "re-open"] {
            let serverBefore = EchoCPU.Mark.cpuSeconds(pid: server.processIdentifier)
            let round = try await openAll(host: host, url: url, options: options)
            let serverAfter = EchoCPU.Mark.cpuSeconds(pid: server.processIdentifier)
            rounds.append((phase, round))
            print(String(format: "  swift %@: %.2f s, %.0f sessions/s, %.2f ms CPU per session, %d resumed TLS sessions",
                         phase, round.seconds, Double(sessions) / round.seconds, round.cpuMilliseconds / Double(sessions), round.resumed))
            if let serverBefore, let serverAfter {
                // Both sides share this machine's cores: their CPU per session bounds the rate any client reaches.
                let serverMilliseconds = (serverAfter.total - serverBefore.total) * 1000 / Double(sessions)
                let both = round.cpuMilliseconds / Double(sessions) + serverMilliseconds
                let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
                print(String(format: "    server %.2f ms CPU per session; client + server %.2f ms per session: %.0f cores fully busy for %.2f s to open %d",
                             serverMilliseconds, both, cores, both * Double(sessions) / 1000 / cores, sessions))
            }
        }
        guard !skipPeer else { return }
        let peer = try runPeer(url: url, caFile: caFile)
        for (phase, figures) in [("open", peer.open), ("re-open", peer.reopen)] {
            let ours = rounds.first { $0.0 == phase }!.1
            print(String(format: "  websockets %@: %.2f s, %.0f sessions/s, %.2f ms CPU per session  (swift is %.1fx)",
                         phase, figures.seconds, Double(sessions) / figures.seconds, figures.cpuMilliseconds / Double(sessions),
                         figures.seconds / ours.seconds))
        }
    }

    struct Round {
        var seconds: Double
        var cpuMilliseconds: Double
        var resumed: Int
    }

    /// Opens every session (at most `concurrency` handshakes at once), then closes them all.
    private func openAll(host: SessionHost, url: String, options: SessionOptions) async throws -> Round {
        let cpuBefore = ProcessCPU.milliseconds()
        let start = ContinuousClock.now
        let opened = try await withThrowingTaskGroup(of: (WebSocketSession, Bool).self) { group in
            var sessionsOpen: [(WebSocketSession, Bool)] = []
            var started = 0
            for _ in 0..<min(concurrency, sessions) {
                group.addTask { let s = try await host.connect(url, options: options); return (s, await s.tlsSessionResumed()) }
                started += 1
            }
            while let next = try await group.next() {
                sessionsOpen.append(next)
                if started < sessions {
                    group.addTask { let s = try await host.connect(url, options: options); return (s, await s.tlsSessionResumed()) }
                    started += 1
                }
            }
            return sessionsOpen
        }
        let elapsed = ContinuousClock.now - start
        let cpu = ProcessCPU.milliseconds() - cpuBefore
        for (session, _) in opened { session.close() }
        for (session, _) in opened { _ = await session.waitUntilClosed() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Round(seconds: seconds, cpuMilliseconds: cpu, resumed: opened.filter { $0.1 }.count)
    }

    private func runServer(port: Int, cert: String, key: String) async throws {
        let host = try SessionHost(threads: 1)
        let tls = try TLSContext.server(certificateChainFile: cert, privateKeyFile: key)
        let options = ServerOptions(tls: tls, connection: WebSocketConnection.Configuration(pingInterval: nil, silenceTimeout: nil))
        let server = try host.listen(host: "127.0.0.1", port: port, options: options) { _, _ in }
        print("PORT \(server.port)")
        fflush(nil)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    private func startServer(directory: String) throws -> (Process, Int) {
        try ServerSubprocess.start(
            ["tls-open", "--sessions", "\(sessions)", "--serve", "0",
             "--cert", directory + "/server-chain.pem", "--key", directory + "/server-key.pem"],
            what: "the TLS server")
    }

    /// A throwaway CA and a `localhost` certificate it signed, ECDSA P-256 (`openssl` command line).
    static func makeCertificates(in directory: String) throws {
        let script = """
            set -e
            cd '\(directory)'
            openssl ecparam -name prime256v1 -genkey -noout -out ca-key.pem
            openssl req -x509 -new -key ca-key.pem -days 2 -subj /CN=bench-ca -out ca.pem
            openssl ecparam -name prime256v1 -genkey -noout -out server-key.pem
            openssl req -new -key server-key.pem -subj /CN=localhost -out server.csr
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile ext.cnf -out server.pem
            cat server.pem ca.pem > server-chain.pem
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "(\n" + script + "\n) >/dev/null 2>&1"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("openssl could not make the test certificates") }
    }

    struct PeerFigures: Decodable {
        struct Phase: Decodable {
            var seconds: Double
            var cpuMilliseconds: Double
        }
        var open: Phase
        var reopen: Phase
    }

    private func runPeer(url: String, caFile: String) throws -> PeerFigures {
        // Sources/Bench/TLSOpenBench.swift -> scripts/bench/websockets_tls_open.py
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench/websockets_tls_open.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--url", url, "--ca", caFile, "--sessions", "\(sessions)", "--concurrency", "\(concurrency)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("websockets peer exited \(process.terminationStatus)") }
        return try JSONDecoder().decode(PeerFigures.self, from: data)
    }
}
