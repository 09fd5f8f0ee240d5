import Foundation
import Testing
@testable import RecoveryCore

@Suite struct HeartbeatStateTemplateTests {
    static let connected = Date(timeIntervalSince1970: 1_795_000_000.25)

    static func state(name: String, heartbeat: Date = connected, fence: Int? = 7) -> ConnectionState {
        ConnectionState(
            endpointId: "00000000-0000-4000-8000-000000000001", instanceId: "vm:1:abcd", status: .connected,
            lastConnectedTime: connected, lastHeartbeat: heartbeat, endpointName: name,
            webSocketEndpoint: "wss://api.xiaozhi.me/mcp/?token=secret-token", owner: ConnectionState.poolOwner, fence: fence)
    }

    @Test(arguments: [
        "Kitchen", "", "quote \" and backslash \\ and slash /", "\"LastHeartbeat\":\"2026-01-01T00:00:00.000Z\"",
        "小智 客厅 🎛️", "tab\tnewline\ncontrol\u{01}",
    ])
    func eachHeartbeatIsTheStateEncodedWithItsTime(name: String) throws {
        let template = HeartbeatStateTemplate(Self.state(name: name))
        for offset in [0.0, 1.5, 86_400 * 400 + 0.001, -3600] {
            let at = Self.connected.addingTimeInterval(offset)
            let value = template.value(heartbeatAt: at)
            #expect(value == Self.state(name: name, heartbeat: at).encoded())
            let decoded = try ConnectionState.decode(value)
            #expect(decoded.endpointName == name)
            #expect(Timestamp.format(decoded.lastHeartbeat) == Timestamp.format(at))
        }
    }

    @Test func theTokenStaysRedactedAndOptionalFieldsStayAbsent() {
        let value = HeartbeatStateTemplate(Self.state(name: "n", fence: nil)).value(heartbeatAt: Self.connected.addingTimeInterval(20))
        #expect(!value.contains("secret-token"))
        #expect(value.contains("token=***"))
        #expect(!value.contains("\"Fence\""))
        #expect(value.contains("\"LastHeartbeat\":\"\(Timestamp.format(Self.connected.addingTimeInterval(20)))\""))
    }
}
