@testable import RedisClient
import Testing

@Suite struct RedisProtocolEncoderTests {
    @Test func encodesCommandsAsArraysOfBulkStrings() {
        let encoded = RedisProtocolEncoder.encode([RedisCommand("SET", "key", [UInt8]([0, 13, 10])), RedisCommand("PING")])
        #expect(encoded == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n".utf8) + [0, 13, 10] + Array("\r\n*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test func encodesEmptyAndLongArguments() {
        let long = [UInt8](repeating: 120, count: 1234)
        let encoded = RedisProtocolEncoder.encode([RedisCommand("SET", "", long)])
        #expect(encoded == Array("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1234\r\n".utf8) + long + Array("\r\n".utf8))
    }
}
