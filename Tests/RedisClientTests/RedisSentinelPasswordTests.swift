import ClientSupport
import Foundation
import RedisClient
import Testing

/// Sentinels with a password of their own (`requirepass`), as production sentinels often have: the client
/// offers `RedisSentinel.password` before its question, and a missing or wrong one is one clear error naming
/// the sentinel, never carrying a password.
@Suite(.serialized) struct RedisSentinelPasswordTests {
    static let sentinelPassword = "sentinel-pw-\(UUID().uuidString.prefix(8))"

    @Test func theSentinelsOwnPasswordLeadsToTheMaster() async throws {
        try await withSentinel { sentinel, master in
            var settings = master
            settings.sentinel = RedisSentinel(servers: [sentinel], masterName: "pw-test", password: Self.sentinelPassword)
            let client = try await RedisClient.connect(configuration: settings)
            let key = uniqueKeyPrefix("sentinel-password")
            try await client.set(key, "through the sentinel", expiry: .seconds(60))
            #expect(try await client.get(key) == Array("through the sentinel".utf8))
        }
    }

    @Test(arguments: [nil, "not-the-sentinel-password"])
    func aMissingOrWrongSentinelPasswordIsOneClearError(_ password: String?) async throws {
        try await withSentinel { sentinel, master in
            var settings = master
            settings.sentinel = RedisSentinel(servers: [sentinel], masterName: "pw-test", password: password)
            let error = await #expect(throws: RedisError.self) { try await RedisClient.connect(configuration: settings) }
            let text = String(describing: error)
            #expect(text.contains("sentinel \(sentinel)"), "the error names the sentinel: \(text)")
            #expect(!text.contains(Self.sentinelPassword), "the error carries the sentinels' password")
            if let masterPassword = master.password { #expect(!text.contains(masterPassword), "the error carries the Redis password") }
            if let password { #expect(!text.contains(password), "the error carries the password offered") }
            #expect(!String(describing: settings.sentinel!).contains(Self.sentinelPassword))
        }
    }

    /// A sentinel with `requirepass` watching the test server as master `pw-test`, for the body's length.
    private func withSentinel(_ body: (ServerAddress, RedisConfiguration) async throws -> Void) async throws {
        let master = try testConfiguration(commandTimeout: .seconds(5))
        let process = try SentinelProcess(masterPort: master.port, masterPassword: master.password, password: Self.sentinelPassword)
        defer { process.stop() }
        try await process.waitUntilListening()
        try await body(ServerAddress(host: "127.0.0.1", port: process.port), master)
    }
}

/// One `redis-server --sentinel` child on a free loopback port, its configuration in a temporary directory.
private final class SentinelProcess: Sendable {
    let port: Int
    private let pid: pid_t
    private let directory: URL

    init(masterPort: Int, masterPassword: String?, password: String) throws {
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = [
            "port \(port)", "bind 127.0.0.1", "daemonize no", "dir \(directory.path)", "logfile \"\"",
            "requirepass \(password)", "sentinel monitor pw-test 127.0.0.1 \(masterPort) 1",
        ]
        if let masterPassword { lines.append("sentinel auth-pass pw-test \(masterPassword)") }
        let configuration = directory.appendingPathComponent("sentinel.conf")
        try (lines.joined(separator: "\n") + "\n").write(to: configuration, atomically: true, encoding: .utf8)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["redis-server", configuration.path, "--sentinel"]
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw SentinelStartError(reason: "posix_spawn failed with \(spawned)") }
        pid = child
    }

    /// Waits (up to 10 s) until the sentinel accepts connections.
    func waitUntilListening() async throws {
        for _ in 0..<100 {
            if Self.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SentinelStartError(reason: "the sentinel did not listen on \(port) within 10 s")
    }

    /// SIGKILL: the child inherits the test threads' signal mask, in which SIGTERM may be blocked.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        try? FileManager.default.removeItem(at: directory)
    }

    private static func accepts(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SentinelStartError(reason: "no socket for a free port") }
        defer { close(socket) }
        var address = loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw SentinelStartError(reason: "no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

private struct SentinelStartError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "cannot start a test sentinel: \(reason)" }
}
