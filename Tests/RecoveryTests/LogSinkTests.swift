import Foundation
import Logging
import RecoveryCore
import Testing
@testable import Recovery

@Suite struct LogSinkTests {
    private static func event(_ message: String) -> LogEvent {
        LogEvent(level: .info, message: "\(message)", metadata: nil, source: "t", file: #file, function: #function, line: #line)
    }

    @Test func linesReachTheDescriptorWholeWithTheirUTCTime() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let handler = PoolLogHandler(label: "worker", format: .text, level: .info, sink: .writing(to: ends[1]))
        let long = String(repeating: "x", count: 20_000)
        for message in ["first", "小智 second", long] { handler.log(event: Self.event(message)) }
        close(ends[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(ends[0], &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count == 4)
        #expect(lines[3].isEmpty)
        for (line, message) in zip(lines, ["first", "小智 second", long]) {
            #expect(line.hasSuffix(" info worker: \(message)"))
            let time = line.prefix(24)
            #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(10).hasPrefix("T"), "\(time)")
            #expect(Timestamp.parse(String(time)) != nil, "\(time)")
        }
    }

    @Test func aLogReaderThatWentAwayLosesLinesNotTheProcess() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        close(ends[0])
        defer { close(ends[1]) }
        let handler = PoolLogHandler(label: "worker", format: .text, level: .info, sink: .writing(to: ends[1]))
        var logged = 0
        for index in 0..<1_000 {
            handler.log(event: Self.event("line \(index)"))
            logged += 1
        }
        #expect(logged == 1_000)
    }
}
