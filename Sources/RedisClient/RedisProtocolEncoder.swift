/// Encodes commands in the Redis wire protocol (RESP arrays of bulk strings), so a whole pipeline is
/// written to the socket as one buffer.
enum RedisProtocolEncoder {
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var size = 0
        for command in commands {
            size += headerSize(command.arguments.count)
            for argument in command.arguments {
                size += headerSize(argument.count) + argument.count + 2
            }
        }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var position = 0
            for command in commands {
                position = writeHeader(marker: UInt8(ascii: "*"), count: command.arguments.count, into: buffer, at: position)
                for argument in command.arguments {
                    position = writeHeader(marker: UInt8(ascii: "$"), count: argument.count, into: buffer, at: position)
                    argument.withUnsafeBufferPointer { bytes in
                        if let base = bytes.baseAddress, !bytes.isEmpty {
                            (buffer.baseAddress! + position).initialize(from: base, count: bytes.count)
                        }
                    }
                    position += argument.count
                    buffer[position] = 13
                    buffer[position + 1] = 10
                    position += 2
                }
            }
            precondition(position == size, "RESP size computed wrongly")
            initialized = position
        }
    }

    /// The size of `<marker><decimal count>\r\n`.
    private static func headerSize(_ count: Int) -> Int {
        var digits = 1
        var value = count
        while value >= 10 {
            value /= 10
            digits += 1
        }
        return digits + 3
    }

    /// Writes `<marker><decimal count>\r\n` at `position`; returns the position after it.
    private static func writeHeader(marker: UInt8, count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        buffer[position] = marker
        let end = position + headerSize(count) - 2
        var index = end - 1
        var value = count
        repeat {
            buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
            index -= 1
        } while value > 0
        buffer[end] = 13
        buffer[end + 1] = 10
        return end + 2
    }
}
