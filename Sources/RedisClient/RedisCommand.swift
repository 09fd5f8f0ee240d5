import Foundation

/// A value that can be sent as one argument of a Redis command (binary-safe bytes).
public protocol RedisArgumentConvertible {
    var redisArgument: [UInt8] { get }
}

extension String: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
}

extension Int: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension UInt64: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Array: RedisArgumentConvertible where Element == UInt8 {
    public var redisArgument: [UInt8] { self }
}

extension Data: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(self) }
}

/// One Redis command: its name and arguments as bytes, e.g. `RedisCommand("SET", key, value, "PX", 5000)`.
public struct RedisCommand: Sendable, Equatable {
    /// The name followed by the arguments.
    public var arguments: [[UInt8]]

    public init(_ name: String, _ arguments: any RedisArgumentConvertible...) {
        self.init(name, arguments: arguments)
    }

    public init(_ name: String, arguments: [any RedisArgumentConvertible]) {
        var all: [[UInt8]] = [Array(name.utf8)]
        all.reserveCapacity(arguments.count + 1)
        for argument in arguments {
            all.append(argument.redisArgument)
        }
        self.arguments = all
    }

    /// The command's name in upper case, for messages (arguments are never shown: they may be secrets).
    public var name: String {
        String(decoding: arguments.first ?? [], as: UTF8.self).uppercased()
    }
}
