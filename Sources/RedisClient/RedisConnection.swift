import ClientSupport
import CHiredis
import Foundation
import Glibc
import Logging

/// Writing to a socket the server closed must give an error, not kill the process.
private let sigpipeIgnored: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

/// A hiredis context handed from the thread that connected it to the event loop that uses it, with the
/// server it reached (the master the sentinels named, when there are sentinels).
struct RedisContextHandoff: @unchecked Sendable {
    let context: UnsafeMutablePointer<redisContext>
    let server: ServerAddress
}

/// Establishes a connection the blocking way (asking the sentinels for the master when there are some,
/// TCP with the connect timeout, `AUTH`, `SELECT`, and `ROLE` behind sentinels) on a short-lived thread
/// of its own, so a slow connect never holds up the event loop.
enum RedisConnector {
    static func connect(_ configuration: RedisConfiguration, sentinels: SentinelOrder?) throws(RedisError) -> RedisContextHandoff {
        _ = sigpipeIgnored
        var target = ServerAddress(host: configuration.host, port: configuration.port)
        if let sentinel = configuration.sentinel, let sentinels {
            target = try master(of: sentinel, order: sentinels, configuration: configuration)
        }
        let server = target.description + "/\(configuration.database)"
        let context = try open(target, timeout: configuration.connectTimeout, server: server)
        _ = redisSetTimeout(context, timeval(configuration.commandTimeout))
        _ = redisEnableKeepAlive(context)
        do throws(RedisError) {
            if let password = configuration.password {
                var auth = RedisCommand("AUTH")
                if let username = configuration.username { auth.arguments.append(Array(username.utf8)) }
                auth.arguments.append(Array(password.utf8))
                if case let .error(message) = try execute(auth, on: context, server: server) {
                    throw RedisError.authenticationFailed(server: server, message: message)
                }
            }
            if configuration.database != 0,
               case let .error(message) = try execute(RedisCommand("SELECT", configuration.database), on: context, server: server) {
                throw RedisError.authenticationFailed(server: server, message: "SELECT \(configuration.database): \(message)")
            }
            if configuration.sentinel != nil {
                // A sentinel's answer can be stale during a failover: only a server that says it is the
                // master gets commands.
                let role = try execute(RedisCommand("ROLE"), on: context, server: server)
                let name = role.array?.first?.string ?? role.description
                guard name == "master" else {
                    throw RedisError.connectFailed(server: server, reason: "the sentinels named it master, but its ROLE is \(name)")
                }
            }
        } catch {
            redisFree(context)
            throw error
        }
        return RedisContextHandoff(context: context, server: target)
    }

    /// The master's address from the first sentinel that knows it; that sentinel is asked first next time.
    static func master(of sentinel: RedisSentinel, order: SentinelOrder, configuration: RedisConfiguration) throws(RedisError) -> ServerAddress {
        var failures: [String] = []
        for address in order.current {
            do throws(RedisError) {
                let master = try ask(address, for: sentinel, configuration: configuration)
                order.promote(address)
                return master
            } catch {
                failures.append("\(error)")
            }
        }
        throw .connectFailed(
            server: configuration.serverDescription,
            reason: "no sentinel named the master (" + failures.joined(separator: "; ") + ")")
    }

    /// `SENTINEL get-master-addr-by-name` on one sentinel: with the sentinels' own password after
    /// `AUTH` with it; without one, offering the server's credentials only when the sentinel asks.
    private static func ask(_ address: ServerAddress, for sentinel: RedisSentinel, configuration: RedisConfiguration) throws(RedisError) -> ServerAddress {
        let server = "sentinel " + address.description
        let context = try open(address, timeout: sentinel.timeout, server: server)
        defer { redisFree(context) }
        _ = redisSetTimeout(context, timeval(sentinel.timeout))
        func authenticate(username: String?, password: String) throws(RedisError) {
            var auth = RedisCommand("AUTH")
            if let username { auth.arguments.append(Array(username.utf8)) }
            auth.arguments.append(Array(password.utf8))
            if case let .error(message) = try execute(auth, on: context, server: server) {
                throw .authenticationFailed(server: server, message: message)
            }
        }
        if let password = sentinel.password { try authenticate(username: nil, password: password) }
        let question = RedisCommand("SENTINEL", "get-master-addr-by-name", sentinel.masterName)
        var reply = try execute(question, on: context, server: server)
        if sentinel.password == nil, let message = reply.errorMessage, message.hasPrefix("NOAUTH"), let password = configuration.password {
            try authenticate(username: configuration.username, password: password)
            reply = try execute(question, on: context, server: server)
        }
        if reply.isNull {
            throw .connectFailed(server: server, reason: "it watches no master named '\(sentinel.masterName)'")
        }
        guard let fields = reply.array, fields.count == 2, let host = fields[0].string, !host.isEmpty,
              let port = fields[1].string.flatMap({ Int($0) }), (1...65535).contains(port)
        else {
            throw .connectFailed(server: server, reason: "unexpected answer: \(reply.errorMessage ?? reply.description)")
        }
        return ServerAddress(host: host, port: port)
    }

    /// A blocking TCP connection with `timeout`.
    private static func open(_ address: ServerAddress, timeout: Duration, server: String) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context = redisConnectWithTimeout(address.host, Int32(address.port), timeval(timeout)) else {
            throw .connectFailed(server: server, reason: "out of memory")
        }
        if context.pointee.err != 0 {
            let reason = errorText(context)
            redisFree(context)
            throw .connectFailed(server: server, reason: reason)
        }
        return context
    }

    /// One blocking command on a context that is still being set up.
    private static func execute(_ command: RedisCommand, on context: UnsafeMutablePointer<redisContext>, server: String) throws(RedisError) -> RedisReply {
        let encoded = RedisProtocolEncoder.encode([command])
        encoded.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                _ = redisAppendFormattedCommand(context, pointer, bytes.count)
            }
        }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            let reason = errorText(context)
            throw .connectFailed(server: server, reason: reason.isEmpty ? "I/O error" : reason)
        }
        defer { freeReplyObject(raw) }
        return RedisReplyConversion.convert(raw.assumingMemoryBound(to: redisReply.self))
    }
}

/// One pipeline waiting on the event loop: its commands (for names in errors), the replies read so far,
/// and the suspended caller. Touched only on the loop's thread once submitted.
final class RedisRequest: @unchecked Sendable {
    let commands: [RedisCommand]
    private var replies: [RedisReply] = []
    /// Set when a reply said the server is a read-only replica (a master demoted by a failover).
    private(set) var reachedReplica = false
    private let continuation: UnsafeContinuation<[RedisReply], any Error>

    init(commands: [RedisCommand], continuation: UnsafeContinuation<[RedisReply], any Error>) {
        self.commands = commands
        self.continuation = continuation
    }

    /// Converts one more hiredis reply object and frees it, here on the loop's thread (measured faster
    /// than handing the objects to the caller to convert and free: no cross-thread `free`); true when the
    /// pipeline is complete (then `resume` hands the replies over).
    func take(_ object: UnsafeMutableRawPointer) -> Bool {
        if replies.isEmpty { replies.reserveCapacity(commands.count) }
        let reply = RedisReplyConversion.convert(object.assumingMemoryBound(to: redisReply.self))
        if case let .error(message) = reply, message.hasPrefix("READONLY") { reachedReplica = true }
        replies.append(reply)
        freeReplyObject(object)
        return replies.count == commands.count
    }

    /// Resumes the caller with the replies of a complete pipeline.
    func resume() {
        let done = replies
        replies = []
        continuation.resume(returning: done)
    }

    func succeedEmpty() {
        continuation.resume(returning: [])
    }

    func fail(_ error: RedisError) {
        replies = []
        continuation.resume(throwing: error)
    }

    /// The name of the command whose reply is awaited, for error messages.
    var currentCommandName: String {
        commands.isEmpty ? "connect" : commands[min(replies.count, commands.count - 1)].name
    }
}

/// One client's connection as the event loop sees it: a non-blocking hiredis context (or none yet),
/// the pipelines written and awaiting replies in order, and those waiting for a connection.
/// After any I/O error, protocol error or command timeout the context is freed and every waiting
/// pipeline fails; the next pipeline connects afresh. Used only on the loop's thread.
final class RedisLink: @unchecked Sendable {
    private enum State {
        case idle
        case connecting
        case connected(context: UnsafeMutablePointer<redisContext>, fd: Int32, token: UInt64)
        case closed
    }

    let configuration: RedisConfiguration
    /// The server for messages: the master last reached, when sentinels name it.
    private(set) var server: String
    private let sentinels: SentinelOrder?
    /// The master last reached through the sentinels, to log a failover when it changes.
    private var master: ServerAddress?
    private let logger: Logger
    private let loop: RedisEventLoop
    private let timeoutNanoseconds: UInt64

    private var state = State.idle
    /// Pipelines (with their encoded bytes) that arrived while there was no connection.
    private var awaitingConnection: [(request: RedisRequest, payload: [UInt8])] = []
    private var inFlight: [RedisRequest] = []
    private var inFlightHead = 0
    private var isDirty = false
    /// Encoded pipelines not yet (fully) written, and how much of them was.
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var wantsWrite = false
    /// When data last moved for the pipelines in flight (monotonic nanoseconds).
    private var lastProgress: UInt64 = 0
    /// Set once a connection broke, so the next successful connect is logged as a recovery.
    private var lostConnection = false

    init(configuration: RedisConfiguration, logger: Logger, loop: RedisEventLoop) {
        self.configuration = configuration
        self.server = configuration.serverDescription
        self.sentinels = configuration.sentinel.map { SentinelOrder($0.servers) }
        self.logger = logger
        self.loop = loop
        let (seconds, attoseconds) = configuration.commandTimeout.components
        self.timeoutNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    deinit {
        if case let .connected(context, _, _) = state { redisFree(context) }
    }

    private var hasInFlight: Bool { inFlightHead < inFlight.count }

    /// Queues a pipeline (already encoded as `payload`), connecting first if needed.
    func submit(_ request: RedisRequest, payload: [UInt8]) {
        switch state {
        case .closed:
            request.fail(.closed(server: server))
        case .idle:
            awaitingConnection.append((request, payload))
            startConnecting()
        case .connecting:
            awaitingConnection.append((request, payload))
        case .connected:
            write(request, payload: payload)
        }
    }

    private func startConnecting() {
        state = .connecting
        let configuration = self.configuration
        let loop = self.loop
        let sentinels = self.sentinels
        Thread.detachNewThread { [self] in
            let result: Result<RedisContextHandoff, RedisError>
            do throws(RedisError) {
                result = .success(try RedisConnector.connect(configuration, sentinels: sentinels))
            } catch {
                result = .failure(error)
            }
            loop.execute { self.finishConnecting(result) }
        }
    }

    private func finishConnecting(_ result: Result<RedisContextHandoff, RedisError>) {
        let waiting = awaitingConnection
        awaitingConnection = []
        switch result {
        case let .success(handoff):
            let context = handoff.context
            guard case .connecting = state else {
                redisFree(context)
                for (request, _) in waiting { request.fail(.closed(server: server)) }
                return
            }
            let fd = context.pointee.fd
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            context.pointee.flags &= ~Int32(REDIS_BLOCK)
            let token = loop.register(self, fd: fd)
            state = .connected(context: context, fd: fd, token: token)
            if let sentinel = configuration.sentinel {
                noteMaster(handoff.server, name: sentinel.masterName)
            }
            if lostConnection {
                lostConnection = false
                logger.info("Reconnected to Redis", metadata: ["redis.server": "\(server)"])
            }
            for (request, payload) in waiting {
                write(request, payload: payload)
            }
        case let .failure(error):
            if case .connecting = state { state = .idle }
            for (request, _) in waiting { request.fail(error) }
        }
    }

    /// Logs which server the sentinels named, and loudly when it changed (a failover).
    private func noteMaster(_ address: ServerAddress, name: String) {
        server = address.description + "/\(configuration.database)"
        defer { master = address }
        guard let previous = master else {
            logger.info("Redis master from the sentinels", metadata: ["redis.master": "\(address)", "redis.master_name": "\(name)"])
            return
        }
        if previous != address {
            logger.warning("Redis master changed (a Sentinel failover); commands now go to the new master", metadata: [
                "redis.master": "\(address)", "redis.previous_master": "\(previous)", "redis.master_name": "\(name)",
            ])
        }
    }

    /// Queues the pipeline's bytes behind those not yet written; the loop flushes once per batch of jobs,
    /// so pipelines that arrive together go out in one `send`.
    private func write(_ request: RedisRequest, payload: [UInt8]) {
        guard !request.commands.isEmpty else {
            request.succeedEmpty()
            return
        }
        if output.isEmpty {
            output = payload
        } else {
            output.append(contentsOf: payload)
        }
        if !hasInFlight {
            lastProgress = monotonicNanoseconds()
            loop.expectTimeoutCheck(by: lastProgress &+ timeoutNanoseconds)
        }
        inFlight.append(request)
        if !isDirty {
            isDirty = true
            loop.markDirty(self)
        }
    }

    /// Sends the queued bytes as far as the socket takes them; asks for writability for the rest.
    func flush() {
        isDirty = false
        guard case let .connected(context, fd, token) = state else { return }
        while outputOffset < output.count {
            let sent = output.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + outputOffset, bytes.count - outputOffset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputOffset += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                dropConnection(context, failure: .io(errno: sent < 0 ? errno : EPIPE))
                return
            }
        }
        if outputOffset == output.count {
            output.removeAll(keepingCapacity: true)
            outputOffset = 0
        }
        let needsWrite = outputOffset < output.count
        if needsWrite != wantsWrite {
            wantsWrite = needsWrite
            loop.setWriteInterest(needsWrite, fd: fd, token: token)
        }
    }

    /// Reacts to readiness: `writable` flushes, `readable` (data, end of stream or error) reads. Each
    /// chunk read is fed to the context's hiredis reader, and the complete replies it yields go to the
    /// pipelines in flight, in order, before the next chunk (which keeps the reader's buffer small).
    func handle(readable: Bool, writable: Bool) {
        if writable {
            flush()
        }
        guard readable, case let .connected(context, fd, _) = state else { return }
        guard let reader = context.pointee.reader else {
            dropConnection(context, failure: .protocolViolation("the connection has no reply reader"))
            return
        }
        let buffer = loop.receiveBuffer
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                lastProgress = monotonicNanoseconds()
                guard redisReaderFeed(reader, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), count) == REDIS_OK else {
                    dropConnection(context, failure: .protocolViolation(readerErrorText(reader)))
                    return
                }
                guard takeReplies(from: reader, context: context) else { return }
                if count < buffer.count { break }
            } else if count == 0 {
                dropConnection(context, failure: .endOfStream)
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                dropConnection(context, failure: .io(errno: errno))
                return
            }
        }
    }

    /// Hands every complete reply the reader holds to the pipelines in flight; false when the connection
    /// was dropped (a protocol error, or bytes no command asked for).
    private func takeReplies(from reader: UnsafeMutablePointer<redisReader>, context: UnsafeMutablePointer<redisContext>) -> Bool {
        while true {
            var object: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &object) == REDIS_OK else {
                dropConnection(context, failure: .protocolViolation(readerErrorText(reader)))
                return false
            }
            guard let object else {
                // Unread bytes, or an array opened (`ridx` > 0; hiredis leaves it at 0 when idle), with
                // nothing in flight: the server is answering a command nobody sent.
                if !hasInFlight && (reader.pointee.len > reader.pointee.pos || reader.pointee.ridx > 0) {
                    dropConnection(context, failure: .protocolViolation("the server sent a reply no command asked for"))
                    return false
                }
                return true
            }
            guard hasInFlight else {
                freeReplyObject(object)
                dropConnection(context, failure: .protocolViolation("the server sent a reply no command asked for"))
                return false
            }
            let request = inFlight[inFlightHead]
            if request.take(object) {
                loop.completed(request)
                inFlightHead += 1
                if inFlightHead == inFlight.count {
                    inFlight.removeAll(keepingCapacity: true)
                    inFlightHead = 0
                } else if inFlightHead >= 64 && inFlightHead * 2 >= inFlight.count {
                    inFlight.removeFirst(inFlightHead)
                    inFlightHead = 0
                }
                if request.reachedReplica {
                    // Writes can only fail here until the connection goes: the next call finds the master.
                    dropConnection(context, failure: .readOnlyReplica)
                    return false
                }
            }
        }
    }

    /// Fails the pipelines in flight when no data moved for the command timeout; returns when the
    /// next check is due, or nil when nothing is in flight.
    func checkTimeout(now: UInt64) -> UInt64? {
        guard hasInFlight, case let .connected(context, _, _) = state else { return nil }
        let deadline = lastProgress &+ timeoutNanoseconds
        guard now >= deadline else { return deadline }
        dropConnection(context, failure: .timeout)
        return nil
    }

    /// Frees the context; pipelines in flight or waiting fail with `closed`, and so do later ones.
    func close() {
        if case let .connected(context, fd, token) = state {
            loop.deregister(fd: fd, token: token)
            redisFree(context)
        }
        state = .closed
        output = []
        outputOffset = 0
        failInFlight { _ in .closed(server: server) }
        let waiting = awaitingConnection
        awaitingConnection = []
        for (request, _) in waiting { request.fail(.closed(server: server)) }
    }

    /// What broke a connection.
    private enum Failure {
        /// The server closed the connection.
        case endOfStream
        /// Sending failed with this `errno`.
        case io(errno: Int32)
        /// The server broke the protocol (hiredis's reader says how), or sent a reply nobody asked for.
        case protocolViolation(String)
        /// No data moved for the command timeout.
        case timeout
        /// The server answered `-READONLY`: it is a replica now.
        case readOnlyReplica
    }

    /// Turns the failure into `RedisError`s for the pipelines in flight, frees the context and logs the
    /// loss; the next pipeline reconnects.
    private func dropConnection(_ context: UnsafeMutablePointer<redisContext>, failure: Failure) {
        var code: Int32 = 0
        let reason: String
        switch failure {
        case .endOfStream:
            code = REDIS_ERR_EOF
            reason = "the server closed the connection"
        case let .io(number):
            code = REDIS_ERR_IO
            reason = String(cString: strerror(number))
        case let .protocolViolation(text):
            code = REDIS_ERR_PROTOCOL
            reason = text
        case .timeout:
            reason = "no reply within the command timeout"
        case .readOnlyReplica:
            reason = "the server is a read-only replica now (a failover)"
        }
        if case let .connected(_, fd, token) = state {
            loop.deregister(fd: fd, token: token)
        }
        redisFree(context)
        state = .idle
        wantsWrite = false
        output = []
        outputOffset = 0
        lostConnection = true
        let command = hasInFlight ? inFlight[inFlightHead].currentCommandName : "none (idle)"
        logger.warning("Redis connection dropped after an error; the next call reconnects", metadata: [
            "redis.server": "\(server)", "redis.command": "\(command)", "redis.reason": "\(reason)",
        ])
        let server = self.server
        let timedOut: Bool
        if case .timeout = failure { timedOut = true } else { timedOut = false }
        failInFlight { request in
            if timedOut || (code == REDIS_ERR_IO && (reason.contains("temporarily unavailable") || reason.contains("timed out"))) {
                return .timeout(server: server, command: request.currentCommandName)
            }
            if code == REDIS_ERR_EOF {
                return .connectionLost(server: server, reason: "the server closed the connection")
            }
            return .connectionLost(server: server, reason: reason.isEmpty ? "I/O error" : reason)
        }
    }

    private func failInFlight(_ error: (RedisRequest) -> RedisError) {
        let failed = inFlight[inFlightHead...]
        inFlight = []
        inFlightHead = 0
        for request in failed { request.fail(error(request)) }
    }
}

/// The context's `errstr`, as text.
private func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
    withUnsafeBytes(of: &context.pointee.errstr) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A hiredis reader's `errstr`, as text.
private func readerErrorText(_ reader: UnsafeMutablePointer<redisReader>) -> String {
    withUnsafeBytes(of: &reader.pointee.errstr) { raw in
        let bytes = raw.prefix { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? "protocol error" : text
    }
}

/// Converts hiredis reply objects into `RedisReply` (every reply, on the loop's thread; and those of the
/// blocking `AUTH`/`SELECT` while a connection is set up).
enum RedisReplyConversion {
    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            if value.len == 2, let text = value.str, text[0] == 0x4F, text[1] == 0x4B {
                return .status("OK")
            }
            return .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.str == nil ? 0 : value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.str == nil ? 0 : value.len), as: UTF8.self))
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
