import Recovery

/// The endpoints table's search, filter and page, from the query string: `q` matches id, name, owner or
/// last error (case-insensitive); `state` one state (or `all`); `page` from 1; `per` 1 to 200 rows.
public struct EndpointQuery: Sendable, Equatable {
    public var search: String
    public var state: String
    public var page: Int
    public var perPage: Int

    public static let maxPerPage = 200
    /// Pages past this are empty anyway; the bound keeps the row arithmetic far from overflowing.
    public static let maxPage = 1_000_000

    public init(search: String = "", state: String = "all", page: Int = 1, perPage: Int = 50) {
        self.search = search
        self.state = state
        self.page = min(Self.maxPage, max(1, page))
        self.perPage = min(Self.maxPerPage, max(1, perPage))
    }

    /// From query items; a value that does not parse takes its default.
    public init(items: [(name: String, value: String)]) {
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        self.init(
            search: String((value("q") ?? "").prefix(200)), state: value("state").flatMap { $0.isEmpty ? nil : $0 } ?? "all",
            page: value("page").flatMap { Int($0) } ?? 1, perPage: value("per").flatMap { Int($0) } ?? 50)
    }

    /// Whether `status` passes the search and the state filter.
    public func matches(_ status: EndpointStatus) -> Bool {
        if state != "all", status.state.lowercased() != state.lowercased() { return false }
        guard !search.isEmpty else { return true }
        let needle = search.lowercased()
        return [status.id.rawValue, status.name, status.owner ?? "", status.lastError ?? ""].contains { $0.lowercased().contains(needle) }
    }

    /// The matching rows and the current page of them.
    public func apply(to rows: [EndpointStatus]) -> (matching: Int, page: [EndpointStatus]) {
        let matching = rows.filter(matches)
        let start = min(matching.count, (page - 1) * perPage)
        return (matching.count, Array(matching[start..<min(matching.count, start + perPage)]))
    }
}
