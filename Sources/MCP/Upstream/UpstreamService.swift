import ClientSupport
import Foundation

/// The transport an upstream service speaks.
public enum UpstreamTransport: Sendable, Hashable, CustomStringConvertible {
    /// MCP Streamable HTTP (`streamable-http`, `http`).
    case streamableHTTP
    /// The older HTTP+SSE transport (`sse`).
    case serverSentEvents
    /// A protocol the pool cannot run (`stdio`, or an unknown name).
    case unsupported(String)

    /// Reads the `Protocol` column (any case; nil or empty means Streamable HTTP).
    public init(protocolName: String?) {
        let name = (protocolName ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "", "streamable-http", "streamable_http", "streamablehttp", "http", "https": self = .streamableHTTP
        case "sse": self = .serverSentEvents
        default: self = .unsupported(name)
        }
    }

    public var description: String {
        switch self {
        case .streamableHTTP: return "streamable-http"
        case .serverSentEvents: return "sse"
        case .unsupported(let name): return name
        }
    }
}

/// An upstream MCP service as a bridge needs it: where, how, with which credentials, for which user.
public struct UpstreamService: Sendable, Hashable, CustomStringConvertible {
    public var configId: String
    public var name: String
    /// The `Endpoint` column as stored (may hold a secret in its query; use `redactedEndpoint` in messages).
    public var endpoint: String
    public var transport: UpstreamTransport
    public var authentication: UpstreamAuthentication
    /// Sent as `X-User-Id`: the owner of the Xiaozhi endpoint.
    public var userId: String?

    public init(configId: String, name: String, endpoint: String, transport: UpstreamTransport,
                authentication: UpstreamAuthentication, userId: String?) {
        self.configId = configId
        self.name = name
        self.endpoint = endpoint
        self.transport = transport
        self.authentication = authentication
        self.userId = userId
    }

    /// The endpoint without user info, query or fragment: safe for logs and error messages.
    public var redactedEndpoint: String { Redaction.addressWithoutQuery(endpoint) }


    public var description: String { "'\(name)' (\(transport) \(redactedEndpoint))" }
}
