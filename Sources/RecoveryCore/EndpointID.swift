/// An endpoint's `"Id"` in `mcp_endpoints`: the name of its Redis keys, the `serverId` of its jobs and
/// results. A type of its own so an endpoint id is never mixed up with a job id, a worker id or a token.
public struct EndpointID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: EndpointID, rhs: EndpointID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension EndpointID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.rawValue = value }
}
