import Foundation

/// Reads a descriptor to its end on a thread of its own, keeping what it read.
final class PipeCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var collected: [UInt8] = []
    private var ended = false

    init(reading descriptor: Int32) {
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                guard count > 0 else { break }
                condition.withLock { collected += buffer[..<count] }
            }
            condition.withLock {
                ended = true
                condition.broadcast()
            }
        }.start()
    }

    /// What was read so far.
    var text: String { condition.withLock { String(decoding: collected, as: UTF8.self) } }

    /// Everything, once the writers closed it.
    func bytesAtEnd() -> [UInt8] {
        condition.withLock {
            while !ended { condition.wait() }
            return collected
        }
    }
}
