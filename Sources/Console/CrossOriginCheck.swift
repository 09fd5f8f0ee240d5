/// Cross-site request protection for state-changing requests, as Go's `CrossOriginProtection` and
/// Sidekiq 8.1 do it: a browser says where a request comes from in `Sec-Fetch-Site` (or, older ones,
/// `Origin`); anything but the console's own origin is refused. A request with neither header is not from
/// a browser, so no cookie rides on it unasked.
public enum CrossOriginCheck {
    public enum Verdict: Sendable, Equatable {
        case allowed
        case refused(String)
    }

    /// GET, HEAD and OPTIONS change nothing and are always allowed.
    public static func verdict(method: String, secFetchSite: String?, origin: String?, host: String?) -> Verdict {
        if ["GET", "HEAD", "OPTIONS"].contains(method) { return .allowed }
        if let site = secFetchSite?.lowercased() {
            return site == "same-origin" || site == "none" ? .allowed : .refused("cross-site request (Sec-Fetch-Site: \(site))")
        }
        guard let origin else { return .allowed }
        guard let host, let originHost = hostPart(ofOrigin: origin), originHost.lowercased() == host.lowercased() else {
            return .refused("cross-origin request")
        }
        return .allowed
    }

    /// `host[:port]` of an origin such as `http://127.0.0.1:9470`; nil for `null` or a malformed one.
    static func hostPart(ofOrigin origin: String) -> String? {
        guard let separator = origin.range(of: "://") else { return nil }
        let rest = origin[separator.upperBound...]
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return String(rest)
    }
}
