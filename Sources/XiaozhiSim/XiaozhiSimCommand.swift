import ArgumentParser
import ClientSupport
import Foundation
import Logging
import Transport
import WebSocket

/// `xiaozhi-sim`: a Xiaozhi endpoint simulator for the demo and the tests. Serves
/// `ws://HOST:PORT/mcp/?token=T` (`wss://` with `--tls-cert` and `--tls-key`), plays Xiaozhi's MCP client on every session, and exposes a JSON status and
/// fault-switch endpoint.
@main
struct XiaozhiSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xiaozhi-sim",
        abstract: "Simulates Xiaozhi MCP endpoints: ws://HOST:PORT/mcp/?token=T, with a JSON status and fault switches."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "WebSocket port (0 picks a free one).")
    var port: Int

    @Option(help: "File of allowed tokens, one a line ('#' comments). Without it any non-empty token is accepted.")
    var tokens: String?

    @Option(name: .customLong("ping-interval"), help: "Seconds between the MCP pings of each session; 0 disables.")
    var pingInterval = 25.0

    @Option(
        name: .customLong("ws-ping-interval"),
        help: "Seconds between WebSocket pings of each session, with a silence deadline of three intervals; 0 disables.")
    var webSocketPingInterval = 0.0

    @Option(name: .customLong("status-port"), help: "Port of the JSON status and fault-switch endpoint (0 picks one); omit for none.")
    var statusPort: Int?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve wss:// (with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535, got \(port)") }
        if let statusPort, !(0...65535).contains(statusPort) {
            throw ValidationError("--status-port must be 0-65535, got \(statusPort)")
        }
        guard pingInterval >= 0, pingInterval <= 3600 else { throw ValidationError("--ping-interval must be 0-3600 seconds") }
        guard webSocketPingInterval >= 0, webSocketPingInterval <= 3600 else {
            throw ValidationError("--ws-ping-interval must be 0-3600 seconds")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "xiaozhi-sim")

        var allowed: Set<String>?
        if let tokens {
            guard let text = try? String(contentsOfFile: tokens, encoding: .utf8) else {
                throw ValidationError("cannot read the tokens file '\(tokens)'")
            }
            allowed = TokenFile.parse(text)
        }
        let interval: Duration? = pingInterval > 0 ? .milliseconds(Int64(pingInterval * 1000)) : nil
        let webSocketInterval: Duration? =
            webSocketPingInterval > 0 ? .milliseconds(Int64(webSocketPingInterval * 1000)) : nil
        let connection = WebSocketConnection.Configuration(
            pingInterval: webSocketInterval, silenceTimeout: webSocketInterval.map { $0 * 3 })

        var tls: TLSContext?
        if let tlsCert, let tlsKey {
            do { tls = try TLSContext.server(certificateChainFile: tlsCert, privateKeyFile: tlsKey) } catch {
                throw ValidationError("cannot use the TLS certificate: \(error)")
            }
        }
        let simulator: SimulatorServer
        do {
            simulator = try SimulatorServer(
                host: host, port: port,
                configuration: SimulatorCore.Configuration(allowedTokens: allowed, mcpPingInterval: interval),
                connection: connection, tls: tls, logger: logger)
        } catch {
            throw ValidationError("cannot listen on \(host):\(port): \(error)")
        }
        var statusLine = ""
        // Kept for the simulator's whole run: the status server answers only while it is alive.
        var statusServer: StatusServer?
        if let statusPort {
            let status = try StatusServer(host: host, port: statusPort, simulator: simulator, logger: logger)
            statusServer = status
            statusLine = " status http://\(host):\(status.port)/status"
        }
        let tokenNote = allowed.map { "\($0.count) allowed tokens" } ?? "any token"
        // Unbuffered, so a parent process reading the ports sees the line at once.
        DescriptorWrite.text("xiaozhi-sim listening on \(tls == nil ? "ws" : "wss")://\(host):\(simulator.port)/mcp/ (\(tokenNote))\(statusLine)\n", to: STDOUT_FILENO)
        await simulator.run()
        statusServer?.close()
        simulator.shutdown()
    }
}
