import Foundation

/// Where an HTTP request goes: scheme, host and port; connections are reused per origin.
struct HTTPOrigin: Hashable, Sendable, CustomStringConvertible {
    var secure: Bool
    var host: String
    var port: Int

    /// The origin of an http or https URL with a host; nil for anything else.
    init?(url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = url.host, !host.isEmpty else { return nil }
        // IPv6 literals may come bracketed.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        secure = scheme == "https"
        self.host = host
        port = url.port ?? (secure ? 443 : 80)
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    var description: String { "\(secure ? "https" : "http")://\(hostHeader)" }
}
