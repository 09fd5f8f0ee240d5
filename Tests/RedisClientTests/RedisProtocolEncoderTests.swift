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

    @Test func encodesNothingForAnEmptyPipeline() {
        #expect(RedisProtocolEncoder.encode([]).isEmpty)
    }

    @Test(arguments: [9, 10, 99, 100, 999, 1000, 65_536])
    func lengthPrefixesHaveExactlyTheirDigits(length: Int) {
        let value = [UInt8](repeating: 0x00, count: length)
        let encoded = RedisProtocolEncoder.encode([RedisCommand("ECHO", value)])
        #expect(encoded == Array("*2\r\n$4\r\nECHO\r\n$\(length)\r\n".utf8) + value + Array("\r\n".utf8))
    }

    @Test func commandsWithTenOrMoreArgumentsCountThemInDecimal() {
        let members = (0..<11).map { "m\($0)" as any RedisArgumentConvertible }
        let encoded = RedisProtocolEncoder.encode([RedisCommand("SADD", arguments: ["set"] + members)])
        var expected = "*13\r\n$4\r\nSADD\r\n$3\r\nset\r\n"
        for index in 0..<11 {
            expected += "$\(String(index).count + 1)\r\nm\(index)\r\n"
        }
        #expect(encoded == Array(expected.utf8))
    }

    @Test func pipelineEncodingIsTheConcatenationOfItsCommands() {
        let commands = [
            RedisCommand("SET", "k\r\n", [UInt8]([0xFF, 0x00, 0x0A])),
            RedisCommand("GET", "k\r\n"),
            RedisCommand("EVALSHA", "abc", 2, "a", "b", -1),
        ]
        let whole = RedisProtocolEncoder.encode(commands)
        let pieces = commands.flatMap { RedisProtocolEncoder.encode([$0]) }
        #expect(whole == pieces)
        #expect(RedisProtocolEncoder.encode([commands[2]]) == Array("*6\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nb\r\n$2\r\n-1\r\n".utf8))
    }
}
