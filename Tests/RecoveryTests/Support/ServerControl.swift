import Foundation

/// Stops, starts and restarts the test servers through `scripts/services.sh` (found by `XZ_SERVICES_SCRIPT`).
/// Its output goes to a file: a daemon that inherited a pipe would keep the wait from ever ending.
enum ServerControl {
    static func run(_ action: String, _ server: String) throws {
        let script = try requiredEnvironment("XZ_SERVICES_SCRIPT")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-pool-services-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, action, server]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw HarnessError("services.sh \(action) \(server) failed: \(output)")
        }
    }
}
