/// Counts by tokenId for the status. Keeps at most `limit` tokenIds, so a stream of distinct tokens (the
/// simulator accepts any token without a token file) cannot grow memory without bound; a tokenId first seen
/// past the limit is counted in the totals only.
struct TokenCounter: Sendable, Hashable {
    /// Far above the ~19,000 sessions one simulator process can hold; about 3 MB when full.
    static let defaultLimit = 50_000

    let limit: Int
    private(set) var counts: [String: Int] = [:]

    init(limit: Int = TokenCounter.defaultLimit) {
        self.limit = limit
    }

    mutating func increment(_ tokenId: String) {
        if let count = counts[tokenId] {
            counts[tokenId] = count + 1
        } else if counts.count < limit {
            counts[tokenId] = 1
        }
    }

    subscript(tokenId: String) -> Int { counts[tokenId] ?? 0 }
}
