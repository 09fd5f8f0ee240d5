import Foundation
import MCP
import RecoveryCore
import Transport

/// A live Xiaozhi session this worker holds, with the lease that entitles it to. A class, not a struct:
/// renewals and heartbeats walk every held session each tick, and copying a dozen references per
/// session per tick was a fifth of an idle worker's CPU.
public final class HeldSession: Sendable {
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
    let closeRecord: SessionCloseRecord

    init(
        endpointId: EndpointID, endpointName: String, address: String, leaseToken: String, fence: Int, connectedAt: Date,
        openedAt: ContinuousClock.Instant, attempt: Int, endpointUpdatedAt: Date?, heartbeat: HeartbeatStateTemplate,
        session: WebSocketSession, mcp: MCPSessionServer, closeRecord: SessionCloseRecord = SessionCloseRecord()
    ) {
        self.endpointId = endpointId
        self.endpointName = endpointName
        self.address = address
        self.leaseToken = leaseToken
        self.fence = fence
        self.connectedAt = connectedAt
        self.openedAt = openedAt
        self.attempt = attempt
        self.endpointUpdatedAt = endpointUpdatedAt
        self.heartbeat = heartbeat
        self.session = session
        self.mcp = mcp
        self.closeRecord = closeRecord
    }

    /// The same session under its lease taken again (after it lapsed) with a new fence, its heartbeat
    /// value rebuilt by `heartbeat` to carry it.
    func retaken(fence: Int, heartbeat: HeartbeatStateTemplate) -> HeldSession {
        HeldSession(
            endpointId: endpointId, endpointName: endpointName, address: address, leaseToken: leaseToken, fence: fence,
            connectedAt: connectedAt, openedAt: openedAt, attempt: attempt, endpointUpdatedAt: endpointUpdatedAt,
            heartbeat: heartbeat, session: session, mcp: mcp, closeRecord: closeRecord)
    }
}
