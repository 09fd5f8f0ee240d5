import Foundation
import PostgresClient
import Testing

/// A missing server variable fails the test with a message naming it.
struct MissingEnvironment: Error, CustomStringConvertible {
    let variable: String
    var description: String {
        "\(variable) is not set: start the local servers with `eval \"$(scripts/services.sh start)\"`"
    }
}

func environment(_ variable: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
        throw MissingEnvironment(variable: variable)
    }
    return value
}

/// The configuration of the test server from `DATABASE_URL`.
func testConfiguration(statementTimeout: Duration? = nil) throws -> PostgresConfiguration {
    var configuration = try PostgresConfiguration(url: environment("DATABASE_URL"), connectTimeout: .seconds(3), statementTimeout: statementTimeout)
    configuration.reconnectInitialDelay = .milliseconds(50)
    configuration.reconnectMaximumDelay = .milliseconds(500)
    return configuration
}

func connectToTestServer(statementTimeout: Duration? = nil) async throws -> PostgresClient {
    try await PostgresClient.connect(configuration: testConfiguration(statementTimeout: statementTimeout))
}

/// A table name no other test uses (tests create them as TEMP tables, dropped with the session).
func uniqueTableName(_ test: String) -> String {
    "test_pg_\(test)_\(UUID().uuidString.prefix(8).lowercased())"
}

/// Runs `scripts/services.sh ARGS` (found through `XZ_SERVICES_SCRIPT`) on a helper thread. It spawns
/// with every descriptor above stderr closed: a daemon the script starts must not inherit this process's
/// pipes and sockets (Foundation's `Process` waits for such a pipe to close, which a daemon never does).
func runServicesScript(_ arguments: String...) async throws {
    let script = try environment("XZ_SERVICES_SCRIPT")
    let status: Int32 = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: spawnAndWait(["/bin/bash", "-c", closeInheritedDescriptorsThenExec, "services", script] + arguments))
        }
    }
    #expect(status == 0, "services.sh \(arguments.joined(separator: " ")) exited with \(status)")
}

/// A bash prologue that closes every descriptor above stderr, then runs its arguments.
private let closeInheritedDescriptorsThenExec = """
    for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec "$@"
    """

private func spawnAndWait(_ argv: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    var cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
    guard spawned == 0 else { return -spawned }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}
