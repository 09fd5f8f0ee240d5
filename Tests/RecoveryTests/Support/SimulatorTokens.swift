import ClientSupport
import Foundation

/// The simulator's view by token: it names a token only by its tokenId (the first 12 hex digits of the
/// token's SHA-1), so tests set per-token faults and read per-token counts without sending a token.
enum SimulatorTokens {
    /// The tokenId of `token`, as the simulator computes it.
    static func tokenId(_ token: String) -> String {
        String(SHA1.hexDigest(of: Array(token.utf8)).prefix(12))
    }

    /// The tokenId of endpoint `index` as `PoolCluster.seedEndpoints` addresses it (`token-<index>`).
    static func tokenId(endpoint index: Int, tokenPrefix: String = "token") -> String {
        tokenId("\(tokenPrefix)-\(index)")
    }

    /// A `POST /faults` body that gives each of `tokenIds` the faults in `faultJSON` (a JSON object).
    static func faultsBody(_ tokenIds: [String], _ faultJSON: String) -> String {
        #"{"tokens": {"# + tokenIds.map { #""\#($0)": \#(faultJSON)"# }.joined(separator: ", ") + "}}"
    }

    /// The `POST /faults` body that clears every token's faults.
    static let clearTokenFaults = #"{"tokens": null}"#
}
