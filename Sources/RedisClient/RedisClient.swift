import Logging

/// An async Redis client over one hiredis connection. The connection is non-blocking and driven by the
/// process's Redis event loop thread (connecting happens on a short-lived thread of its own), so awaiting
/// callers never block Swift's cooperative pool; pipelines from concurrent callers are written together,
/// and hiredis's reply reader parses what comes back on that thread. It connects lazily, and after any connection error it reconnects on the next call.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let link: RedisLink
    private let loop: RedisEventLoop

    /// Creates a client that connects on its first call; connection losses and recoveries go to `logger`.
    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "redis")) {
        self.configuration = configuration
        self.loop = RedisEventLoop.shared
        self.link = RedisLink(configuration: configuration, logger: logger, loop: loop)
    }

    /// Parses `url` (e.g. `REDIS_URL`) and connects at once, so a bad URL, password or port fails here.
    public static func connect(url: String, logger: Logger = Logger(label: "redis")) async throws -> RedisClient {
        try await connect(configuration: RedisConfiguration(url: url), logger: logger)
    }

    /// Connects at once (TCP, `AUTH`, `SELECT`), so a bad password or port fails here.
    public static func connect(configuration: RedisConfiguration, logger: Logger = Logger(label: "redis")) async throws -> RedisClient {
        let client = RedisClient(configuration: configuration, logger: logger)
        _ = try await client.run([])
        return client
    }

    deinit {
        let link = self.link
        loop.execute { link.close() }
    }

    /// Sends one command; an error reply is thrown as `RedisError.commandFailed`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await run([command])[0]
        if case let .error(message) = reply {
            throw RedisError.commandFailed(server: configuration.serverDescription, command: command.name, message: message)
        }
        return reply
    }

    /// Sends one command built from its name and arguments, e.g. `send("SET", key, value)`.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgumentConvertible...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments: arguments))
    }

    /// Sends all commands with one flush and returns their replies in order. Error replies are returned
    /// as `.error` elements; only connection failures throw.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await run(commands)
    }

    /// Runs a script by `EVALSHA`, sending the source with `EVAL` when the server does not know it yet.
    @discardableResult
    public func evaluate(
        _ script: RedisScript,
        keys: [any RedisArgumentConvertible] = [],
        arguments: [any RedisArgumentConvertible] = []
    ) async throws -> RedisReply {
        let tail = [keys.count] + keys.map(\.redisArgument) + arguments.map(\.redisArgument) as [any RedisArgumentConvertible]
        var reply = try await run([RedisCommand("EVALSHA", arguments: [script.sha1] + tail)])[0]
        if case let .error(message) = reply, message.hasPrefix("NOSCRIPT") {
            reply = try await run([RedisCommand("EVAL", arguments: [script.source] + tail)])[0]
        }
        if case let .error(message) = reply {
            throw RedisError.commandFailed(server: configuration.serverDescription, command: "script \(script.sha1)", message: message)
        }
        return reply
    }

    /// One `SCAN` step: the next cursor (`"0"` when the iteration is complete) and the keys of this step.
    public func scan(cursor: String = "0", matching pattern: String? = nil, count: Int? = nil) async throws -> (cursor: String, keys: [[UInt8]]) {
        var arguments: [any RedisArgumentConvertible] = [cursor]
        if let pattern { arguments += ["MATCH", pattern] }
        if let count { arguments += ["COUNT", count] }
        let reply = try await send(RedisCommand("SCAN", arguments: arguments))
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
            throw RedisError.unexpectedReply(command: "SCAN", expected: "[cursor, keys]", got: reply.description)
        }
        return (next, keys.compactMap(\.bytes))
    }

    /// Every key matching `pattern`, by iterating `SCAN` until the cursor returns to 0 (duplicates removed).
    public func scanAllKeys(matching pattern: String? = nil, count: Int? = nil) async throws -> [[UInt8]] {
        var cursor = "0"
        var seen = Set<[UInt8]>()
        var keys: [[UInt8]] = []
        repeat {
            let step = try await scan(cursor: cursor, matching: pattern, count: count)
            for key in step.keys where seen.insert(key).inserted {
                keys.append(key)
            }
            cursor = step.cursor
        } while cursor != "0"
        return keys
    }

    /// `GET key`: the value's bytes, or nil when the key does not exist.
    public func get(_ key: some RedisArgumentConvertible) async throws -> [UInt8]? {
        let reply = try await send(RedisCommand("GET", key))
        return reply.isNull ? nil : reply.bytes
    }

    /// `SET key value [PX milliseconds]`.
    public func set(_ key: some RedisArgumentConvertible, _ value: some RedisArgumentConvertible, expiry: Duration? = nil) async throws {
        var command = RedisCommand("SET", key, value)
        if let expiry {
            command.arguments += ["PX".redisArgument, Self.milliseconds(expiry).redisArgument]
        }
        try await send(command)
    }

    /// `DEL keys...`: how many keys were removed.
    @discardableResult
    public func delete(_ keys: [any RedisArgumentConvertible]) async throws -> Int {
        let reply = try await send(RedisCommand("DEL", arguments: keys))
        return Int(reply.integer ?? 0)
    }

    /// Closes the connection; later calls throw `RedisError.closed`.
    public func close() async {
        let link = self.link
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            loop.execute {
                link.close()
                continuation.resume()
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Encodes `commands` here and hands them to the event loop, whose hiredis reader parses the replies
    /// (converted to `RedisReply` there); the caller is resumed once all have arrived (an empty list only
    /// makes sure the connection is up).
    private func run(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        let payload = commands.isEmpty ? [] : RedisProtocolEncoder.encode(commands)
        let link = self.link
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[RedisReply], any Error>) in
            let request = RedisRequest(commands: commands, continuation: continuation)
            loop.execute { link.submit(request, payload: payload) }
        }
    }
}
