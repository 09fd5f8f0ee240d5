import Foundation
import JSON

/// How the bridge authenticates to an upstream service. Holds secrets: its description is redacted.
public enum UpstreamAuthentication: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    case none
    /// `headerName: Bearer token` when the header is `Authorization`, else `headerName: token`.
    case bearer(token: String, headerName: String)
    case basic(username: String, password: String)
    /// `headerName: prefix apiKey` (no prefix: the key alone).
    case apiKey(key: String, headerName: String, prefix: String?)

    /// Reads `AuthenticationType` (any case) and `AuthenticationConfig` JSON.
    /// The error names the type and the missing field, never a value. Headers that could not be sent
    /// as they are (a line break, NUL, a name that is not an HTTP token) are refused here.
    public static func parse(type: String?, config: String?) -> Result<UpstreamAuthentication, UpstreamAuthenticationError> {
        parseFields(type: type, config: config).flatMap { authentication in
            if let problem = authentication.headerProblem { return .failure(UpstreamAuthenticationError(reason: problem)) }
            return .success(authentication)
        }
    }

    private static func parseFields(type: String?, config: String?) -> Result<UpstreamAuthentication, UpstreamAuthenticationError> {
        let kind = (type ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if kind.isEmpty || kind == "none" { return .success(.none) }
        guard ["bearer", "basic", "apikey", "api_key", "api-key", "oauth2"].contains(kind) else {
            return .failure(UpstreamAuthenticationError(reason: "unknown AuthenticationType '\(kind)'"))
        }
        guard let config, !config.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .failure(UpstreamAuthenticationError(reason: "\(kind) authentication has no AuthenticationConfig"))
        }
        guard let json = try? JSONValue(parsing: config), json.isObject else {
            return .failure(UpstreamAuthenticationError(reason: "\(kind) AuthenticationConfig is not a JSON object"))
        }
        func field(_ names: String...) -> String? {
            for name in names {
                if let value = json[name]?.stringValue, !value.isEmpty { return value }
            }
            // Case-insensitive fallback, as the original's serializer tolerated either case.
            for member in json.objectMembers ?? [] where names.contains(where: { $0.lowercased() == member.key.lowercased() }) {
                if let value = member.value.stringValue, !value.isEmpty { return value }
            }
            return nil
        }
        switch kind {
        case "bearer":
            guard let token = field("token") else {
                return .failure(UpstreamAuthenticationError(reason: "bearer AuthenticationConfig has no token"))
            }
            return .success(.bearer(token: token, headerName: field("headerName") ?? "Authorization"))
        case "basic":
            guard let username = field("username") else {
                return .failure(UpstreamAuthenticationError(reason: "basic AuthenticationConfig has no username"))
            }
            return .success(.basic(username: username, password: field("password") ?? ""))
        case "oauth2":
            guard let token = field("accessToken", "access_token", "token") else {
                return .failure(UpstreamAuthenticationError(reason: "oauth2 AuthenticationConfig has no stored access token"))
            }
            return .success(.bearer(token: token, headerName: "Authorization"))
        default:
            guard let key = field("apiKey", "api_key", "key") else {
                return .failure(UpstreamAuthenticationError(reason: "apikey AuthenticationConfig has no apiKey"))
            }
            return .success(.apiKey(key: key, headerName: field("headerName") ?? "X-API-Key", prefix: field("prefix")))
        }
    }

    /// The HTTP headers to send.
    public var headers: [(name: String, value: String)] {
        switch self {
        case .none:
            return []
        case .bearer(let token, let headerName):
            if headerName.lowercased() == "authorization" { return [(headerName, "Bearer \(token)")] }
            return [(headerName, token)]
        case .basic(let username, let password):
            let encoded = Data("\(username):\(password)".utf8).base64EncodedString()
            return [("Authorization", "Basic \(encoded)")]
        case .apiKey(let key, let headerName, let prefix):
            guard let prefix, !prefix.isEmpty else { return [(headerName, key)] }
            return [(headerName, prefix.hasSuffix(" ") ? prefix + key : "\(prefix) \(key)")]
        }
    }

    /// Why the headers cannot be sent (names the header, never its value), or nil when they can.
    public var headerProblem: String? {
        for header in headers {
            if let problem = HTTPHeaderCheck.problem(name: header.name, value: header.value, allowReserved: false) { return problem }
        }
        return nil
    }

    /// The scheme and header name only.
    public var description: String {
        // A malformed header name may carry an injected header and its secret: it is not shown.
        func shown(_ name: String) -> String { HTTPHeaderCheck.problem(name: name) == nil ? name : "invalid header name" }
        switch self {
        case .none: return "none"
        case .bearer(_, let headerName): return "bearer (\(shown(headerName)))"
        case .basic: return "basic"
        case .apiKey(_, let headerName, _): return "apikey (\(shown(headerName)))"
        }
    }

    public var debugDescription: String { description }
}

/// Why a service config's authentication cannot be used; never contains a secret.
public struct UpstreamAuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
