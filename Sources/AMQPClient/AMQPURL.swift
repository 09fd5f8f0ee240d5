import ClientSupport
/// A parsed `amqp://` or `amqps://` URL: where to connect, as whom, and to which virtual host.
///
/// Follows the RabbitMQ URI specification: user, password and vhost are percent-decoded (`%2f` is `/`),
/// an absent or empty path means the default vhost `/`, and the query may set `heartbeat` (seconds),
/// `connection_timeout` (milliseconds), `verify` (`verify_peer` or `verify_none`) and `cacertfile`.
/// The authority may list several nodes of a cluster (`amqp://u:p@h1:5672,h2:5672,h3:5672/vhost`); a
/// connection uses one at a time and fails over to the next.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    /// Whether the connection uses TLS (`amqps`).
    public var usesTLS: Bool
    /// The broker nodes, in the order they are tried first.
    public var servers: [ServerAddress]
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Heartbeat interval requested by the URL's `heartbeat` query parameter, if any.
    public var heartbeatSeconds: Int?
    /// Connect timeout requested by the URL's `connection_timeout` query parameter, if any.
    public var connectionTimeoutMilliseconds: Int?
    /// `false` only when the URL says `verify=verify_none`.
    public var verifiesPeer: Bool
    /// CA bundle requested by the URL's `cacertfile` query parameter, if any.
    public var caCertificateFile: String?

    /// Parses `text`; throws `AMQPError.invalidURL` naming the URL with its password redacted.
    public init(parsing text: String) throws(AMQPError) {
        func fail(_ reason: String) -> AMQPError {
            .invalidURL(url: Redaction.urlPassword(text), reason: reason)
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw fail("expected amqp://user:password@host:port/vhost")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "amqp": usesTLS = false
        case "amqps": usesTLS = true
        default: throw fail("unsupported scheme '\(scheme)' (expected amqp or amqps)")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if rest.contains("#") { throw fail("fragments are not allowed") }
        // The user-info ends at the last '@' before the path; a password may not hold a raw '/'.
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var hostPort = authority
        user = "guest"
        password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                guard let u = percentDecoded(userInfo[..<colon]) else { throw fail("bad percent-encoding in user") }
                guard let p = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    throw fail("bad percent-encoding in password")
                }
                user = u
                password = p
            } else {
                guard let u = percentDecoded(userInfo) else { throw fail("bad percent-encoding in user") }
                user = u
            }
        }
        let defaultPort = usesTLS ? 5671 : 5672
        do throws(ServerAddressError) {
            servers = try ServerAddress.parseList(hostPort.isEmpty ? "localhost" : hostPort, defaultPort: defaultPort)
        } catch {
            throw fail(error.reason.hasPrefix("port") ? "invalid \(error.reason)" : "invalid host list: \(error)")
        }
        if path.contains("/") { throw fail("the vhost must percent-encode '/' as %2f") }
        guard let vhost = percentDecoded(path) else { throw fail("bad percent-encoding in vhost") }
        virtualHost = vhost.isEmpty ? "/" : vhost
        heartbeatSeconds = nil
        connectionTimeoutMilliseconds = nil
        verifiesPeer = true
        caCertificateFile = nil
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard parts.count == 2, let value = percentDecoded(parts[1]) else {
                throw fail("query parameter '\(key)' needs a value")
            }
            switch key {
            case "heartbeat":
                guard let seconds = Int(value), (0...65535).contains(seconds) else {
                    throw fail("heartbeat must be 0-65535 seconds, got '\(value)'")
                }
                heartbeatSeconds = seconds
            case "connection_timeout":
                guard let ms = Int(value), ms > 0 else { throw fail("connection_timeout must be positive milliseconds") }
                connectionTimeoutMilliseconds = ms
            case "verify":
                switch value {
                case "verify_peer": verifiesPeer = true
                case "verify_none": verifiesPeer = false
                default: throw fail("verify must be verify_peer or verify_none, got '\(value)'")
                }
            case "cacertfile":
                caCertificateFile = value
            default:
                throw fail("unknown query parameter '\(key)'")
            }
        }
    }

    /// The URL with the password replaced by `***`, safe for logs and errors.
    public var redacted: String {
        let vhost = virtualHost.utf8.map { byte -> String in
            let c = Character(Unicode.Scalar(byte))
            return (byte < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c))) ? String(c) : "%" + hex(byte)
        }.joined()
        return "\(usesTLS ? "amqps" : "amqp")://\(user):***@\(servers.map(\.description).joined(separator: ","))/\(vhost)"
    }

    public var description: String { redacted }

}


private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xf)])
}
