import Foundation
import MCP
import RecoveryCore
import Transport

/// A live Xiaozhi session this worker holds, with the lease that entitles it to.
public struct HeldSession: Sendable {
    public let serverId: String
    public let serverName: String
    /// The endpoint address with its token (only ever passed to the transport).
    let address: String
    /// This holder's random lease token (never logged, never in a state value).
    let leaseToken: String
    public let fence: Int
    public let connectedAt: Date
    /// When the session opened, on the monotonic clock (how long it lived decides what its loss means).
    let openedAt: ContinuousClock.Instant
    /// The attempt of the job that opened it: a session lost soon after opening is that attempt failed.
    let attempt: Int
    /// The row's `"UpdatedAt"` when it opened, recorded in a park so that an edit of the row ends it.
    let endpointUpdatedAt: Date?
    /// Its state with `LastHeartbeat` left open, encoded once (see `HeartbeatStateTemplate`).
    let heartbeat: HeartbeatStateTemplate
    let session: WebSocketSession
    let mcp: MCPSessionServer
    /// Filled in by the serving task when the connection ends.
    let closeRecord = SessionCloseRecord()
}

/// Why a held session ends.
public enum SessionEnd: Sendable, Equatable {
    /// A stop on the control route (the endpoint was disabled or deleted).
    case stopped
    /// The worker is shutting down: the endpoint is handed to another worker.
    case handoff
    /// The lease was lost (expired or taken): someone else may hold the endpoint now.
    case leaseLost
    /// The lease was not confirmed renewed by its local deadline (Redis unreachable or slow, or this
    /// process paused): closed before another holder can take it.
    case fenced
    /// The peer or the network ended it.
    case lost(FailureCause)
}
