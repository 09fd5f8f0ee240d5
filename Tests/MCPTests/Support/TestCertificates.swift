import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA and a `localhost` server certificate made with the `openssl` CLI, once per test process.
struct TestCertificates: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var localhostCert: String { directory + "/localhost.pem" }
    var localhostKey: String { directory + "/localhost.key" }

    static let shared: Result<TestCertificates, PeerError> = {
        let directory = NSTemporaryDirectory() + "mcp-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func path(_ name: String) -> String { directory + "/" + name }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try openssl(["req", "-x509"] + curve + ["-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=MCP Test CA"])
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: path("localhost.ext"), atomically: true, encoding: .utf8)
            try openssl(["req", "-new"] + curve + ["-keyout", path("localhost.key"), "-out", path("localhost.csr"), "-subj", "/CN=localhost"])
            try openssl(["x509", "-req", "-in", path("localhost.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
                         "-out", path("localhost.pem"), "-days", "2", "-extfile", path("localhost.ext")])
            return .success(TestCertificates(directory: directory))
        } catch let error as PeerError {
            return .failure(error)
        } catch {
            return .failure(PeerError(description: "cannot make test certificates: \(error)"))
        }
    }()

    static func make() throws -> TestCertificates { try shared.get() }

    /// Runs openssl by posix_spawn and waitpid: Foundation's `waitUntilExit` on a pool thread, with other
    /// tests starting processes at once, can miss the exit.
    private static func openssl(_ arguments: [String]) throws {
        let argv = (["openssl"] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "openssl", &actions, nil, argv, environ)
        guard spawned == 0 else { throw PeerError(description: "cannot start openssl: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw PeerError(description: "openssl \(arguments.first ?? "") failed with wait status \(status)") }
    }
}
