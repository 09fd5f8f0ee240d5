/// Encodes commands in the Redis wire protocol (RESP arrays of bulk strings), so a whole pipeline is
/// handed to hiredis as one buffer.
enum RedisProtocolEncoder {
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var size = 0
        for command in commands {
            size += 16
            for argument in command.arguments {
                size += argument.count + 16
            }
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(size)
        for command in commands {
            append(marker: UInt8(ascii: "*"), count: command.arguments.count, to: &buffer)
            for argument in command.arguments {
                append(marker: UInt8(ascii: "$"), count: argument.count, to: &buffer)
                buffer.append(contentsOf: argument)
                buffer.append(13)
                buffer.append(10)
            }
        }
        return buffer
    }

    /// Appends `<marker><decimal count>\r\n`.
    private static func append(marker: UInt8, count: Int, to buffer: inout [UInt8]) {
        buffer.append(marker)
        if count == 0 {
            buffer.append(UInt8(ascii: "0"))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var length = 0
            var value = count
            withUnsafeMutableBytes(of: &digits) { raw in
                while value > 0 {
                    raw[length] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                    length += 1
                }
                for index in stride(from: length - 1, through: 0, by: -1) {
                    buffer.append(raw[index])
                }
            }
        }
        buffer.append(13)
        buffer.append(10)
    }
}
