import Recovery

/// The dead-letters table's filter: `q` matches endpoint id or last error, `reason` one reason (or `all`).
/// The filter the page shows is the one a bulk retry or purge acts on.
public struct DeadLetterFilter: Sendable, Equatable {
    public var search: String
    public var reason: String

    public init(search: String = "", reason: String = "all") {
        self.search = search
        self.reason = reason.isEmpty ? "all" : reason
    }

    public init(items: [(name: String, value: String)]) {
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        self.init(search: String((value("q") ?? "").prefix(200)), reason: value("reason") ?? "all")
    }

    public var isEmpty: Bool { search.isEmpty && reason == "all" }

    public func matches(_ letter: DeadLetter) -> Bool {
        if reason != "all", letter.reason != reason { return false }
        guard !search.isEmpty else { return true }
        let needle = search.lowercased()
        return [letter.endpointId?.rawValue ?? "", letter.lastError ?? ""].contains { $0.lowercased().contains(needle) }
    }
}
