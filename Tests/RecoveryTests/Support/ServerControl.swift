import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stops, starts and restarts the test servers through `scripts/services.sh` (found by `XZ_SERVICES_SCRIPT`),
/// and the clustered ones through `scripts/ha-services.sh` (`XZ_HA_SERVICES_SCRIPT`).
/// Spawned with posix_spawn and reaped with waitpid, its output to a file: a daemon that inherited a pipe,
/// or a missed child signal, would keep a Foundation `Process` wait from ever ending.
enum ServerControl {
    static func run(_ action: String, _ server: String) throws {
        _ = try run(script: try requiredEnvironment("XZ_SERVICES_SCRIPT"), arguments: [action, server])
    }

    /// Runs `scripts/ha-services.sh ARGUMENTS`; returns what it printed.
    @discardableResult
    static func clustered(_ arguments: String...) throws -> String {
        try run(script: try requiredEnvironment("XZ_HA_SERVICES_SCRIPT"), arguments: arguments)
    }

    private static func run(script: String, arguments: [String]) throws -> String {
        let action = arguments.joined(separator: " ")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-pool-services-\(UUID().uuidString.prefix(8)).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let command = "exec </dev/null >'\(log.path)' 2>&1; exec /bin/bash '\(script)' \(action)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let arguments = ["/bin/bash", "-c", command]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &argv, environ)
        guard spawned == 0 else { throw HarnessError("cannot start services.sh: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard exited, code == 0 else {
            throw HarnessError("\(script) \(action) failed (status \(status)): \(output)")
        }
        return output
    }
}
