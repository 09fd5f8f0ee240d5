import RecoveryCore

/// Every address the console answers, from a request's method and path.
public enum ConsoleRoute: Sendable, Equatable {
    case signInPage, signIn, signOut
    case page(ConsolePage)
    case asset(String)
    case apiSession, apiOverview, apiEndpoints, apiEndpoint(EndpointID), apiWorkers, apiQueues, apiDeadLetters, apiEvents
    case retryDeadLetters, purgeDeadLetters
    /// The path exists but not for this method.
    case wrongMethod(allowed: String)
    case notFound

    public init(method: String, path: String) {
        let reading = method == "GET" || method == "HEAD"
        func get(_ route: ConsoleRoute) -> ConsoleRoute { reading ? route : .wrongMethod(allowed: "GET, HEAD") }
        func post(_ route: ConsoleRoute) -> ConsoleRoute { method == "POST" ? route : .wrongMethod(allowed: "POST") }
        switch path {
        case "/login": self = method == "POST" ? .signIn : get(.signInPage)
        case "/logout": self = post(.signOut)
        case "/": self = get(.page(.overview))
        case "/endpoints": self = get(.page(.endpoints))
        case "/workers": self = get(.page(.workers))
        case "/queues": self = get(.page(.queues))
        case "/dead": self = get(.page(.deadLetters))
        case "/api/session": self = get(.apiSession)
        case "/api/overview": self = get(.apiOverview)
        case "/api/endpoints": self = get(.apiEndpoints)
        case "/api/workers": self = get(.apiWorkers)
        case "/api/queues": self = get(.apiQueues)
        case "/api/dead": self = get(.apiDeadLetters)
        case "/api/events": self = get(.apiEvents)
        case "/api/dead/retry": self = post(.retryDeadLetters)
        case "/api/dead/purge": self = post(.purgeDeadLetters)
        default:
            if Self.tail(of: path, after: "/endpoints/") != nil {
                self = get(.page(.endpoint))
            } else if let id = Self.tail(of: path, after: "/api/endpoints/") {
                self = get(.apiEndpoint(EndpointID(id)))
            } else if let name = Self.tail(of: path, after: "/assets/") {
                self = get(.asset(name))
            } else {
                self = .notFound
            }
        }
    }

    /// The decoded last segment after `prefix`, when it is one non-empty segment of safe characters.
    static func tail(of path: String, after prefix: String) -> String? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = FormBody.decode(ArraySlice(path.dropFirst(prefix.count).utf8))
        guard !rest.isEmpty, rest.utf8.count <= 200, !rest.contains("/"),
              rest.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { return nil }
        return rest
    }

    /// Whether the route needs a signed-in operator.
    public var needsSignIn: Bool {
        switch self {
        case .signInPage, .signIn, .asset, .notFound, .wrongMethod: false
        default: true
        }
    }

    /// Whether the route changes something (admins only).
    public var changesState: Bool {
        switch self {
        case .retryDeadLetters, .purgeDeadLetters: true
        default: false
        }
    }

    /// Whether an unauthenticated request is answered 401 (API) rather than sent to the sign-in page.
    public var isAPI: Bool {
        switch self {
        case .page, .signOut: false
        default: true
        }
    }
}

/// The console's pages.
public enum ConsolePage: String, Sendable, Equatable, CaseIterable {
    case overview, endpoints, endpoint, workers, queues, deadLetters

    public var title: String {
        switch self {
        case .overview: "Overview"
        case .endpoints: "Endpoints"
        case .endpoint: "Endpoint"
        case .workers: "Workers"
        case .queues: "Queues"
        case .deadLetters: "Dead letters"
        }
    }

    public var path: String {
        switch self {
        case .overview: "/"
        case .endpoints, .endpoint: "/endpoints"
        case .workers: "/workers"
        case .queues: "/queues"
        case .deadLetters: "/dead"
        }
    }
}
