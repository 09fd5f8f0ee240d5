import Foundation
import MCP
import RecoveryCore
import Transport

/// A live Xiaozhi session this worker holds, with the lease that entitles it to.
public struct HeldSession: Sendable {
    public let endpointId: EndpointID
    public let endpointName: String
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
    var closeRecord = SessionCloseRecord()

    /// The same session under its lease taken again (after it lapsed) with a new fence, its heartbeat
    /// value rebuilt by `heartbeat` to carry it.
    func retaken(fence: Int, heartbeat: HeartbeatStateTemplate) -> HeldSession {
        HeldSession(
            endpointId: endpointId, endpointName: endpointName, address: address, leaseToken: leaseToken, fence: fence,
            connectedAt: connectedAt, openedAt: openedAt, attempt: attempt, endpointUpdatedAt: endpointUpdatedAt,
            heartbeat: heartbeat, session: session, mcp: mcp, closeRecord: closeRecord)
    }
}
