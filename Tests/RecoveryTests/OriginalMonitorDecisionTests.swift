import Foundation
import RecoveryCore
import Testing

/// The imitation of the original platform's monitor decides like the original: a live session anywhere
/// is left alone, anything else is connected under the lock, and the state is checked again once the
/// lock is held.
@Suite struct OriginalMonitorDecisionTests {
    let decision = OriginalMonitorDecision(instanceId: "api-1", heartbeatTimeout: 20)
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    private func state(
        status: ConnectionStatus = .connected, heartbeatAge: TimeInterval = 1, instanceId: String = "api-2", owner: String? = nil
    ) -> ConnectionState {
        ConnectionState(
            endpointId: "s", instanceId: instanceId, status: status, lastHeartbeat: now.addingTimeInterval(-heartbeatAge),
            endpointName: "n", webSocketEndpoint: "ws://h/mcp/", owner: owner)
    }

    @Test func itsOwnOpenSessionIsKeptWhateverTheStateSays() {
        #expect(decision.atCycleStart(ownSessionOpen: true, state: nil, now: now) == .skip(.ownSessionOpen))
        #expect(decision.atCycleStart(ownSessionOpen: true, state: state(status: .disconnected), now: now) == .skip(.ownSessionOpen))
    }

    @Test func aFreshConnectedStateOfAnotherHolderIsLeftAlone() {
        #expect(decision.atCycleStart(ownSessionOpen: false, state: state(), now: now) == .skip(.connectedElsewhere))
        #expect(decision.atCycleStart(ownSessionOpen: false, state: state(instanceId: "worker-1", owner: "pool"), now: now) == .skip(.connectedElsewhere))
        #expect(decision.atCycleStart(ownSessionOpen: false, state: state(heartbeatAge: 20), now: now) == .skip(.connectedElsewhere))
    }

    @Test func noStateAStaleHeartbeatOrAnotherStatusTakesTheLock() {
        #expect(decision.atCycleStart(ownSessionOpen: false, state: nil, now: now) == .takeLock)
        #expect(decision.atCycleStart(ownSessionOpen: false, state: state(heartbeatAge: 20.5), now: now) == .takeLock)
        for status in [ConnectionStatus.disconnected, .failed, .connecting] {
            #expect(decision.atCycleStart(ownSessionOpen: false, state: state(status: status), now: now) == .takeLock, "\(status)")
        }
    }

    @Test func itsOwnFreshStateOfASessionItLostCountsAsNotConnected() {
        #expect(decision.atCycleStart(ownSessionOpen: false, state: state(instanceId: "api-1"), now: now) == .takeLock)
    }

    @Test func aPoolStateWithItsInstanceIdIsNotTakenForItsOwn() {
        let pools = state(instanceId: "api-1", owner: "pool")
        #expect(!decision.isOwn(pools))
        #expect(decision.atCycleStart(ownSessionOpen: false, state: pools, now: now) == .skip(.connectedElsewhere))
    }

    @Test func aLockNotTakenWithinTheWaitEndsTheTurn() {
        #expect(decision.afterLock(acquired: false, state: nil, now: now) == .lockWaitTimedOut)
    }

    @Test func withTheLockItConnectsUnlessSomeoneConnectedMeanwhile() {
        #expect(decision.afterLock(acquired: true, state: nil, now: now) == .connect)
        #expect(decision.afterLock(acquired: true, state: state(status: .disconnected), now: now) == .connect)
        #expect(decision.afterLock(acquired: true, state: state(instanceId: "api-1"), now: now) == .connect)
        #expect(decision.afterLock(acquired: true, state: state(instanceId: "worker-1", owner: "pool"), now: now) == .release(.connectedElsewhere))
    }
}
