import Foundation
import Glibc
import RedisClient
import Testing

/// Reply shapes through the whole client (hiredis's reader on the event loop, conversion on the caller's
/// thread) against the real server.
@Suite struct RedisReplyTests {
    @Test func binarySafeAndNonASCIIValuesRoundTrip() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("binary")
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0x24, 0x33, 0x0D, 0x0A, 0xFF, 0x2A, 0x00] + Array("小智\r\n$-1\r\n".utf8)
        try await client.set(key, value, expiry: .seconds(60))
        #expect(try await client.get(key) == value)
        let text = "小智 MCP ✓ \u{0}"
        try await client.set("\(key):text", text, expiry: .seconds(60))
        #expect(try await client.send("GET", "\(key):text").string == text)
        #expect(try await client.send("EVAL", "return {ok = ARGV[1]}", 0, "状态") == .status("状态"))
    }

    @Test func errorRepliesAreElementsOfAPipelineAndThrownBySend() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("errors")
        let replies = try await client.pipeline([
            RedisCommand("SET", key, "text", "PX", 60_000),
            RedisCommand("INCR", key),
            RedisCommand("NOSUCHCOMMAND"),
            RedisCommand("EVAL", "return redis.error_reply('坏 reply')", 0),
            RedisCommand("GET", key),
        ])
        #expect(replies.count == 5)
        #expect(replies[0] == .status("OK"))
        #expect(replies[1].errorMessage?.hasPrefix("ERR value is not an integer") == true)
        #expect(replies[2].errorMessage?.contains("unknown command") == true)
        #expect(replies[3] == .error("坏 reply"))
        #expect(replies[4].string == "text")
        await #expect {
            try await client.send("INCR", key)
        } throws: { error in
            guard case let RedisError.commandFailed(server, command, message) = error else { return false }
            return server == client.configuration.serverDescription && command == "INCR" && message.contains("not an integer")
        }
        #expect(try await client.send("PING") == .status("PONG"), "an error reply must not break the connection")
    }

    @Test func integersAtTheLimitsOfInt64() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("integers")
        try await client.set(key, Int64.max - 1, expiry: .seconds(60))
        #expect(try await client.send("INCR", key) == .integer(.max))
        try await client.set(key, Int64.min + 1, expiry: .seconds(60))
        #expect(try await client.send("DECR", key) == .integer(.min))
        #expect(try await client.send("EXISTS", "\(key):missing") == .integer(0))
    }

    @Test func nilArrayAndEmptyArrayAreDistinct() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("nil-array")
        let replies = try await client.pipeline([
            RedisCommand("BLPOP", "\(key):empty", "0.01"),
            RedisCommand("LRANGE", "\(key):empty", 0, -1),
            RedisCommand("EVAL", "return {1, false, 3}", 0),
        ])
        #expect(replies[0] == .null)
        #expect(replies[1] == .array([]))
        // Lua false becomes a nil bulk string inside the array.
        #expect(replies[2] == .array([.integer(1), .null, .integer(3)]))
    }

    @Test func manyLargeAndSmallRepliesInOnePipeline() async throws {
        let client = try await connectToTestServer()
        let key = uniqueKeyPrefix("mixed-sizes")
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var commands = [RedisCommand("SET", key, big, "PX", 60_000)]
        for index in 0..<2_000 {
            commands.append(index % 500 == 0 ? RedisCommand("GET", key) : RedisCommand("ECHO", "small-\(index)"))
        }
        let replies = try await client.pipeline(commands)
        #expect(replies.count == commands.count)
        #expect(replies[0] == .status("OK"))
        for index in 0..<2_000 {
            if index % 500 == 0 {
                #expect(replies[index + 1].bytes == big)
            } else {
                #expect(replies[index + 1].string == "small-\(index)")
            }
        }
    }
}

/// A peer that is not Redis: whatever the client sends, it answers with fixed bytes. The client must give
/// one clear error naming the server, never crash, never hang.
@Suite struct RedisGarbagePeerTests {
    private func expectProtocolError(answer: [UInt8], commands: [RedisCommand], mentioning detail: String) async throws {
        let peer = try RawSocketPeer(answer: answer)
        defer { peer.stop() }
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(peer.port)/0", connectTimeout: .seconds(3), commandTimeout: .seconds(10))
        let client = RedisClient(configuration: configuration)
        for attempt in 0..<2 {
            await #expect {
                _ = try await client.pipeline(commands)
            } throws: { error in
                guard case let RedisError.connectionLost(server, reason) = error else { return false }
                let text = String(describing: error)
                return server == configuration.serverDescription && text.contains("127.0.0.1:\(peer.port)") && reason.contains(detail)
            }
            #expect(peer.connections == attempt + 1, "a call after a protocol error must reconnect")
        }
        await client.close()
    }

    @Test func nonRESPBytesGiveAProtocolErrorNamingTheServer() async throws {
        try await expectProtocolError(
            answer: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8),
            commands: [RedisCommand("PING")],
            mentioning: "Protocol error"
        )
    }

    @Test func garbageAfterAValidReplyFailsTheWholePipeline() async throws {
        try await expectProtocolError(
            answer: Array("+OK\r\n:12\r\n!garbage\r\n".utf8),
            commands: [RedisCommand("PING"), RedisCommand("PING"), RedisCommand("PING")],
            mentioning: "Protocol error"
        )
    }

    @Test func arraysNestedDeeperThanTheReaderAllowsAreAnError() async throws {
        try await expectProtocolError(
            answer: Array((String(repeating: "*1\r\n", count: 12) + ":1\r\n").utf8),
            commands: [RedisCommand("PING")],
            mentioning: "nested"
        )
    }

    @Test func aReplyNoCommandAskedForDropsTheConnection() async throws {
        let peer = try RawSocketPeer(answer: Array("+PONG\r\n+SURPLUS\r\n".utf8))
        defer { peer.stop() }
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(peer.port)/0", connectTimeout: .seconds(3), commandTimeout: .seconds(10))
        let client = RedisClient(configuration: configuration)
        #expect(try await client.send("PING") == .status("PONG"))
        // The surplus reply makes the client drop that connection, so the next call connects again.
        var reconnected = false
        for _ in 0..<50 where !reconnected {
            try await Task.sleep(for: .milliseconds(20))
            _ = try? await client.send("PING")
            reconnected = peer.connections >= 2
        }
        #expect(reconnected, "the connection that carried a reply nobody asked for was kept")
        await client.close()
    }
}

/// A loopback TCP listener on its own thread that answers every connection's first bytes with `answer`,
/// then holds the connection open (reading and discarding) until the client closes it.
final class RawSocketPeer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let state = NSLock()
    private var accepted = 0

    /// How many connections were accepted so far.
    var connections: Int { state.withLock { accepted } }

    init(answer: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PeerError(text: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw PeerError(text: "bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return
                }
                state.withLock { accepted += 1 }
                Thread.detachNewThread { Self.serve(connection, answer: answer) }
            }
        }
    }

    private static func serve(_ connection: Int32, answer: [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var answered = false
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if !answered {
                answered = true
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
        close(connection)
    }

    /// Stops accepting (connections already open end when their client closes them).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    struct PeerError: Error, CustomStringConvertible {
        let text: String
        var description: String { "test peer: \(text)" }
    }
}
