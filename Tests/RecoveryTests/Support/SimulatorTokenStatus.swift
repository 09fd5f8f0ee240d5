/// The per-token maps of the simulator's `/status`.
struct SimulatorTokenStatus: Decodable {
    var connectedCount: Int
    var connectedTokenIds: [String]
    var evictions: Int
    var connectsByTokenId: [String: Int]
    var evictionsByTokenId: [String: Int]
    var closesAfterOpenByTokenId: [String: Int]

    /// The connects `tokenIds` saw, in total.
    func connects(of tokenIds: some Sequence<String>) -> Int {
        tokenIds.reduce(0) { $0 + (connectsByTokenId[$1] ?? 0) }
    }

    /// The evictions `tokenIds` saw (sessions of theirs replaced by a newer one), in total.
    func evictions(of tokenIds: some Sequence<String>) -> Int {
        tokenIds.reduce(0) { $0 + (evictionsByTokenId[$1] ?? 0) }
    }

    /// TokenIds with more than one session at once (the simulator should never report one twice).
    var duplicatedTokenIds: [String] {
        Dictionary(grouping: connectedTokenIds, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
    }
}

extension PoolCluster {
    /// The simulator's `/status` with its per-token maps.
    func simulatorTokenStatus() async throws -> SimulatorTokenStatus {
        try await http("GET", "/status", as: SimulatorTokenStatus.self)
    }
}
