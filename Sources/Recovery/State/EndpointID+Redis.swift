import RecoveryCore
import RedisClient

/// An endpoint id goes to Redis as its bytes (a key suffix, a hash field, a script argument).
extension EndpointID: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(rawValue.utf8) }
}

extension RedisReply {
    /// A bulk string reply read as an endpoint id (a set member, a script's list of ids).
    var endpointID: EndpointID? { string.map(EndpointID.init(rawValue:)) }
}
