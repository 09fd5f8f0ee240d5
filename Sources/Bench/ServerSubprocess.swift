import ArgumentParser
import Foundation
import Glibc

/// A server this bench runs as a subprocess of itself (`bench <subcommand> --serve 0 ...`), so its CPU is
/// apart from the client's: started, then its `PORT <n>` line read.
enum ServerSubprocess {
    static func start(_ arguments: [String], what: String) throws -> (Process, Int) {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
        var collected = Data()
        let handle = output.fileHandleForReading
        while !collected.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            collected.append(chunk)
        }
        let line = String(decoding: collected, as: UTF8.self)
        guard let port = line.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }).flatMap({ Int($0.dropFirst(5)) }) else {
            kill(process.processIdentifier, SIGKILL)
            throw ValidationError("\(what) did not start: \(line)")
        }
        return (process, port)
    }
}
