import Foundation
import Glibc
import Synchronization
import Testing
@testable import Transport

/// Runs blocking work on its own thread, off the cooperative pool.
func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// A test peer: a Python script from `Peers/` run as a subprocess, listening on a loopback port.
final class PeerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    /// Starts `Peers/<script>` and waits for its `PORT <n>` line.
    init(script: String, arguments: [String] = []) async throws {
        let peers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peers.appendingPathComponent(script).path] + arguments
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        let line: String = try await onDedicatedThread {
            var collected = Data()
            while !collected.contains(UInt8(ascii: "\n")) {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                collected.append(chunk)
            }
            return String(decoding: collected, as: UTF8.self)
        }
        // The port line is the proof the peer is up: Foundation's `isRunning` has been seen false for a
        // child that had just printed it, with other tests starting processes at the same time.
        guard let portText = line.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") })?.dropFirst(5),
              let port = Int(portText) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw PeerFailure(message: "peer \(script) exited or did not report its port (got: \(line))")
        }
        self.port = port
    }

    /// Kills the peer. SIGKILL, because a child spawned from a pool thread inherits its blocked SIGTERM.
    /// Foundation reaps the child itself; waiting here from many test threads at once is not safe.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

struct PeerFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A throwaway CA and server certificates made with the `openssl` CLI, once per test process.
struct TestCertificates: Sendable {
    let directory: String
    /// The CA that signed both server certificates.
    var caFile: String { directory + "/ca.pem" }
    /// A certificate for `localhost` and 127.0.0.1.
    var localhostCert: String { directory + "/localhost.pem" }
    var localhostKey: String { directory + "/localhost.key" }
    /// A certificate for `other.test` only.
    var otherCert: String { directory + "/other.pem" }
    var otherKey: String { directory + "/other.key" }

    static let shared: Result<TestCertificates, PeerFailure> = {
        let directory = NSTemporaryDirectory() + "transport-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // openssl runs by posix_spawn and waitpid, not Foundation's Process: `waitUntilExit` on a pool
            // thread, with other tests starting processes at once, can miss the exit and block for good.
            func openssl(_ arguments: [String]) throws {
                let argv = (["openssl"] + arguments).map { strdup($0) } + [nil]
                defer { for argument in argv { free(argument) } }
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                var pid: pid_t = 0
                let spawned = posix_spawnp(&pid, "openssl", &actions, nil, argv, environ)
                guard spawned == 0 else { throw PeerFailure(message: "cannot start openssl: error \(spawned)") }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                guard status == 0 else {
                    throw PeerFailure(message: "openssl \(arguments.first ?? "") failed with wait status \(status)")
                }
            }
            func path(_ name: String) -> String { directory + "/" + name }
            let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try openssl(["req", "-x509"] + curve + ["-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=Transport Test CA"])
            for (name, san) in [("localhost", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.test")] {
                try "subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    .write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
                try openssl(["req", "-new"] + curve + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)"])
                try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
                             "-out", path("\(name).pem"), "-days", "2", "-extfile", path("\(name).ext")])
            }
            return .success(TestCertificates(directory: directory))
        } catch let error as PeerFailure {
            return .failure(error)
        } catch {
            return .failure(PeerFailure(message: "cannot make test certificates: \(error)"))
        }
    }()

    static func make() throws -> TestCertificates { try shared.get() }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
func closedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, let local = Socket.localAddress(fd) else { throw PeerFailure(message: "cannot bind a probe socket") }
    return local.port
}

/// The transport error `body` throws, nil when it succeeds.
func failure(_ body: () throws(TransportError) -> Void) -> TransportError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// A value shared between tasks and loop threads in a test.
final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }
}
