import ClientSupport
import CHiredis
import Foundation
import Logging

/// Writing to a socket the server closed must give an error, not kill the process.
private let sigpipeIgnored: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

/// The blocking hiredis shell: one `redisContext`, used only from its client's `ConnectionThread`.
/// After any I/O error the context is freed and the error thrown; the next call connects afresh.
final class RedisConnection: @unchecked Sendable {
    let configuration: RedisConfiguration
    private let logger: Logger
    private var context: UnsafeMutablePointer<redisContext>?
    private var isClosed = false
    /// Set once a connection broke, so the next successful connect is logged as a recovery.
    private var lostConnection = false

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        _ = sigpipeIgnored
    }

    deinit {
        if let context { redisFree(context) }
    }

    var server: String { configuration.serverDescription }

    /// Connects (TCP, `AUTH`, `SELECT`) unless already connected.
    func connectIfNeeded() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if isClosed { throw .closed(server: server) }
        if let context { return context }
        guard let fresh = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeval(configuration.connectTimeout)) else {
            throw .connectFailed(server: server, reason: "out of memory")
        }
        if fresh.pointee.err != 0 {
            let reason = Self.errorText(fresh)
            redisFree(fresh)
            throw .connectFailed(server: server, reason: reason)
        }
        _ = redisSetTimeout(fresh, timeval(configuration.commandTimeout))
        _ = redisEnableKeepAlive(fresh)
        context = fresh
        do throws(RedisError) {
            if let password = configuration.password {
                var auth = RedisCommand("AUTH")
                if let username = configuration.username { auth.arguments.append(Array(username.utf8)) }
                auth.arguments.append(Array(password.utf8))
                if case let .error(message) = try execute(auth) {
                    throw RedisError.authenticationFailed(server: server, message: message)
                }
            }
            if configuration.database != 0,
               case let .error(message) = try execute(RedisCommand("SELECT", configuration.database)) {
                throw RedisError.authenticationFailed(server: server, message: "SELECT \(configuration.database): \(message)")
            }
        } catch {
            dropContext()
            if case .connectionLost(_, let reason) = error {
                throw .connectFailed(server: server, reason: reason)
            }
            throw error
        }
        if lostConnection {
            lostConnection = false
            logger.info("Reconnected to Redis", metadata: ["redis.server": "\(server)"])
        }
        return fresh
    }

    /// Sends one command and returns its reply (error replies are returned, not thrown).
    func execute(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try pipeline([command])[0]
    }

    /// Appends every command to the output buffer, flushes once, and reads the replies in order.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        let context = try connectIfNeeded()
        guard !commands.isEmpty else { return [] }
        appendAll(commands, to: context)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for command in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw failure(context, command: command.name)
            }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Frees the context; later calls fail with `closed`.
    func close() {
        isClosed = true
        dropContext()
    }

    /// Hands the whole pipeline to hiredis as one protocol buffer (sent at the first `redisGetReply`).
    private func appendAll(_ commands: [RedisCommand], to context: UnsafeMutablePointer<redisContext>) {
        let encoded = RedisProtocolEncoder.encode(commands)
        encoded.withUnsafeBufferPointer { bytes in
            // Appending only fails on out-of-memory; redisGetReply then reports the context error.
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                _ = redisAppendFormattedCommand(context, pointer, bytes.count)
            }
        }
    }

    /// Turns the context's error into a `RedisError` and drops the unusable context.
    private func failure(_ context: UnsafeMutablePointer<redisContext>, command: String) -> RedisError {
        let code = context.pointee.err
        let reason = Self.errorText(context)
        dropContext()
        lostConnection = true
        logger.warning("Redis connection dropped after an error; the next call reconnects", metadata: [
            "redis.server": "\(server)", "redis.command": "\(command)", "redis.reason": "\(reason)",
        ])
        if code == REDIS_ERR_IO && (reason.contains("temporarily unavailable") || reason.contains("timed out")) {
            return .timeout(server: server, command: command)
        }
        if code == REDIS_ERR_EOF {
            return .connectionLost(server: server, reason: "the server closed the connection")
        }
        return .connectionLost(server: server, reason: reason.isEmpty ? "I/O error" : reason)
    }

    private func dropContext() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

private func timeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}
