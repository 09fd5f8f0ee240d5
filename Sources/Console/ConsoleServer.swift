import Foundation
import Recovery
import Logging
import RecoveryCore
import ServiceLifecycle
import Transport

/// The console as a service: its HTTP listener (on an event loop of its own) and the sampler that feeds
/// the live streams and the queues' history. Stops when the process shuts down gracefully.
public final class ConsoleServer: Service, Sendable {
    public let app: ConsoleApp
    let group: EventLoopGroup
    let server: HTTPServer
    let logger: Logger
    /// Between two readings of the overview (only while a live stream is open) and of the queues.
    let overviewInterval: Duration
    let queuesInterval: Duration

    /// Binds at once, so a taken port fails the command before anything else starts.
    public init(host: String, port: Int, app: ConsoleApp, logger: Logger,
                overviewInterval: Duration = .seconds(5), queuesInterval: Duration = .seconds(10)) throws {
        self.app = app
        self.logger = logger
        self.overviewInterval = overviewInterval
        self.queuesInterval = queuesInterval
        group = try EventLoopGroup(threads: 1)
        do {
            server = try HTTPServer(host: host, port: port, group: group) { request in await app.handle(request) }
        } catch {
            group.shutdown()
            throw ConsoleStartError(host: host, port: port, reason: "\(error)")
        }
        logger.notice("console on http://\(host):\(server.port)/")
    }

    /// The bound port.
    public var port: Int { server.port }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.sample() }
        server.close()
        group.shutdown()
    }

    /// Reads the queues every `queuesInterval` (their history) and the overview every `overviewInterval`
    /// while someone watches; publishes both to the live streams.
    public func sample() async {
        let clock = ContinuousClock()
        var nextQueues = clock.now
        var failing = false
        while !Task.isCancelled {
            var overview: String?
            var queues: String?
            do {
                if app.feed.listeners > 0 { overview = try await app.overview() }
                if clock.now >= nextQueues || app.feed.listeners > 0 {
                    queues = try await app.queues()
                    nextQueues = clock.now + queuesInterval
                }
                if failing { logger.notice("console readings work again") }
                failing = false
            } catch {
                if !failing { logger.warning("console cannot read the pool's servers", metadata: ["error": "\(error)"]) }
                failing = true
            }
            if overview != nil || queues != nil { app.feed.publish(overview: overview, queues: queues) }
            try? await Task.sleep(for: overviewInterval)
        }
    }
}

/// The console could not listen.
public struct ConsoleStartError: Error, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let reason: String
    public var description: String { "console cannot listen on \(host):\(port): \(reason)" }
}

extension ConsoleServer {
    /// The console `Console:*` configures, over connections of its own (its dead-letter operations hold
    /// messages on a channel, apart from the scheduler's); nil when `Console:Port` is 0.
    public static func configured(_ configuration: PoolConfiguration, connections: PoolConnections, logger: Logger, port: Int? = nil) async throws -> ConsoleServer? {
        let port = port ?? configuration.consolePort
        guard port != 0 else { return nil }
        var logger = logger
        logger[metadataKey: "component"] = "console"
        let data = LiveConsoleData(
            configuration: configuration, directory: try await connections.directory(), redis: try await connections.redis(),
            holder: try await connections.amqp(name: "scheduler-console"), publisher: try await connections.amqp(name: "scheduler-console-publish"))
        let app = ConsoleApp(
            data: data, tokens: ConsoleTokens(admin: configuration.consoleAdminToken, viewer: configuration.consoleViewerToken), logger: logger)
        return try ConsoleServer(host: configuration.consoleHost, port: port, app: app, logger: logger)
    }
}
