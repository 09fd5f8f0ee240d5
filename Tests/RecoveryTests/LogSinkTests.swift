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
        let sink = LogSink.writing(to: ends[1])
        let handler = PoolLogHandler(label: "worker", format: .text, level: .info, sink: sink)
        let long = String(repeating: "x", count: 20_000)
        let reader = PipeCollector(reading: ends[0])
        for message in ["first", "小智 second", long] { handler.log(event: Self.event(message)) }
        sink.finish()
        close(ends[1])
        let lines = String(decoding: reader.bytesAtEnd(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
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
        let sink = LogSink.writing(to: ends[1])
        let handler = PoolLogHandler(label: "worker", format: .text, level: .info, sink: sink)
        var logged = 0
        for index in 0..<1_000 {
            handler.log(event: Self.event("line \(index)"))
            logged += 1
        }
        #expect(sink.flush(timeout: .seconds(60)))
        sink.finish()
        #expect(logged == 1_000)
    }

    /// A reader that stops reading must not stop the threads that log: they carry on, the lines past the
    /// backlog's bound are dropped, and once the reader reads again it gets whole lines in order with a
    /// notice in place of each run of dropped ones, counting them exactly.
    @Test func aStuckLogReaderCostsLinesNotTheLoggingThread() async throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let sink = LogSink.writing(to: ends[1], backlogBytes: 64 * 1024)
        let handler = PoolLogHandler(label: "worker", format: .text, level: .info, sink: sink)
        sink.renderDroppedNotice { count in "NOTICE \(LogSink.droppedMessage(count))\n" }
        let total = 20_000
        let padding = String(repeating: "p", count: 100)
        // Nobody reads the pipe yet: with lines written by the logging thread, this loop would block once
        // the pipe's 64 KiB are full.
        let logging = DispatchSemaphore(value: 0)
        Thread {
            for index in 0..<total { handler.log(event: Self.event("line \(index) \(padding)")) }
            logging.signal()
        }.start()
        let loggedWhileStuck = logging.wait(timeout: .now() + 60) == .success
        let reader = PipeCollector(reading: ends[0])
        if !loggedWhileStuck { logging.wait() }
        sink.finish()
        close(ends[1])
        #expect(loggedWhileStuck, "the logging thread waited for the log reader")

        var expectedNext = 0
        var dropped = 0
        var notices = 0
        var pendingGap: Int?
        for line in String(decoding: reader.bytesAtEnd(), as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("NOTICE ") {
                let count = try #require(Int(line.dropFirst("NOTICE ".count).prefix { $0.isNumber }))
                #expect(line.hasSuffix("log lines dropped: the log reader did not keep up"))
                #expect(pendingGap == nil, "two notices in a row")
                pendingGap = count
                notices += 1
                continue
            }
            #expect(line.hasSuffix(" \(padding)"), "a line was cut: \(line.prefix(80))")
            let fields = line.split(separator: " ")
            let index = try #require(fields.firstIndex(of: "line").flatMap { Int(fields[$0 + 1]) })
            #expect(index == expectedNext + (pendingGap ?? 0), "lines out of order or a gap without its notice")
            dropped += pendingGap ?? 0
            pendingGap = nil
            expectedNext = index + 1
        }
        let trailingGap = pendingGap ?? 0
        dropped += trailingGap
        #expect(expectedNext + trailingGap == total, "lines missing at the end without a notice")
        #expect(notices > 0, "nothing was dropped, so the reader never fell behind")
        #expect(dropped == sink.droppedLines)
    }
}
