import ClientSupport
import Foundation
import Testing
@testable import RecoveryCore

@Suite struct ConnectionStateTests {
    /// A value as the original platform's System.Text.Json writes it (7-digit fractions, nulls, no extra fields).
    let original = #"{"ServerId":"3f1c","InstanceId":"api-7f9:1:9c0d","Status":0,"LastConnectedTime":"2026-11-26T23:59:00.1234567Z","LastDisconnectedTime":null,"LastHeartbeat":"2026-11-27T00:00:30.5Z","ReconnectAttempts":0,"ServerName":"Kitchen","WebSocketEndpoint":"wss://api.xiaozhi.me/mcp/?token=eyJhbGciOiJ"}"#

    @Test func readsTheOriginalsFormat() throws {
        let state = try ConnectionState.decode(original)
        #expect(state.endpointId == "3f1c")
        #expect(state.instanceId == "api-7f9:1:9c0d")
        #expect(state.status == .connected)
        #expect(state.lastDisconnectedTime == nil)
        #expect(Timestamp.format(state.lastHeartbeat) == "2026-11-27T00:00:30.500Z")
        #expect(Timestamp.format(try #require(state.lastConnectedTime)) == "2026-11-26T23:59:00.123Z")
        #expect(state.endpointName == "Kitchen")
        #expect(state.owner == nil)
        #expect(state.fence == nil)
        #expect(!state.isWrittenByPool)
    }

    @Test func redactsTheTokenOfAStateItReads() throws {
        let state = try ConnectionState.decode(original)
        #expect(state.webSocketEndpoint == "wss://api.xiaozhi.me/mcp/?token=***")
    }

    @Test func toleratesUnknownFieldsOffsetsAndMissingOptionalFields() throws {
        let state = try ConnectionState.decode(#"{"ServerId":"a","Status":2,"LastHeartbeat":"2026-11-27T08:00:30+08:00","Future":{"x":1}}"#)
        #expect(state.status == .connecting)
        #expect(Timestamp.format(state.lastHeartbeat) == "2026-11-27T00:00:30.000Z")
        #expect(state.instanceId == "")
        #expect(state.reconnectAttempts == 0)
        #expect(state.lastConnectedTime == nil)
    }

    @Test func toleratesStatusNamesAndCamelCase() throws {
        let state = try ConnectionState.decode(#"{"serverId":"a","status":"Failed","lastHeartbeat":"2026-11-27T00:00:30"}"#)
        #expect(state.status == .failed)
        #expect(state.endpointId == "a")
    }

    @Test func rejectsAStateWithoutHeartbeatOrStatus() {
        #expect(throws: MessageDecodingError.missingField(.connectionState, field: "LastHeartbeat")) {
            try ConnectionState.decode(#"{"ServerId":"a","Status":0}"#)
        }
        #expect(throws: MessageDecodingError.missingField(.connectionState, field: "Status")) {
            try ConnectionState.decode(#"{"ServerId":"a","LastHeartbeat":"2026-11-27T00:00:30Z"}"#)
        }
        #expect(throws: MessageDecodingError.invalidValue(.connectionState, field: "Status", value: "7", expected: "0, 1, 2 or 3")) {
            try ConnectionState.decode(#"{"Status":7,"LastHeartbeat":"2026-11-27T00:00:30Z"}"#)
        }
        #expect(throws: MessageDecodingError.notJSON(.connectionState)) {
            try ConnectionState.decode("garbage")
        }
    }

    @Test func writesPascalCaseWithTheOriginalsFieldsAndOurs() throws {
        let state = ConnectionState(
            endpointId: "s1", instanceId: "w1", status: .connected,
            lastConnectedTime: Date(timeIntervalSince1970: 100), lastHeartbeat: Date(timeIntervalSince1970: 130),
            endpointName: "Desk", webSocketEndpoint: "wss://user:pw@api.xiaozhi.me/mcp/?token=SECRET", fence: 12)
        let text = state.encoded()
        let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == [
            "ServerId", "InstanceId", "Status", "LastConnectedTime", "LastDisconnectedTime", "LastHeartbeat",
            "ReconnectAttempts", "ServerName", "WebSocketEndpoint", "Owner", "Fence",
        ])
        #expect(object["Status"] as? Int == 0)
        #expect(object["LastHeartbeat"] as? String == "1970-01-01T00:02:10.000Z")
        #expect(object["LastDisconnectedTime"] is NSNull)
        #expect(object["Owner"] as? String == "pool")
        #expect(object["Fence"] as? Int == 12)
        #expect(object["WebSocketEndpoint"] as? String == "wss://***@api.xiaozhi.me/mcp/?token=***")
        #expect(!text.contains("SECRET"))
        #expect(!text.contains("pw"))
        #expect(!text.lowercased().contains("lease"))
    }

    @Test func roundTrips() throws {
        let state = ConnectionState(
            endpointId: "s1", instanceId: "w1", status: .disconnected, lastConnectedTime: Date(timeIntervalSince1970: 100),
            lastDisconnectedTime: Date(timeIntervalSince1970: 200), lastHeartbeat: Date(timeIntervalSince1970: 210),
            reconnectAttempts: 3, endpointName: "名字", webSocketEndpoint: "ws://localhost:9000/mcp", fence: 4)
        #expect(try ConnectionState.decode(state.encoded()) == state)
    }

    @Test func statusValuesMatchTheOriginalsEnum() {
        #expect(ConnectionStatus.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(ConnectionStatus.allCases.map(\.name) == ["Connected", "Disconnected", "Connecting", "Failed"])
        #expect(ConnectionStatus.allCases.filter(\.isUp) == [.connected, .connecting])
    }

    @Test func stateReadingClassifiesStoredValues() throws {
        #expect(StateReading(stored: nil) == .absent)
        #expect(StateReading(stored: "{oops") == .unreadable(raw: "{oops"))
        guard case .decoded(let state, let raw) = StateReading(stored: original) else {
            Issue.record("expected a decoded state")
            return
        }
        #expect(state.endpointId == "3f1c")
        #expect(raw == original)
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("wss://api.xiaozhi.me/mcp/?token=eyJhbGciOi.J9", "wss://api.xiaozhi.me/mcp/?token=***"),
        ("wss://api.xiaozhi.me/mcp/?a=1&token=x&b=2", "wss://api.xiaozhi.me/mcp/?a=1&token=***&b=2"),
        ("wss://api.xiaozhi.me/mcp/?TOKEN=x", "wss://api.xiaozhi.me/mcp/?TOKEN=***"),
        ("wss://api.xiaozhi.me/mcp/?%74oken=x", "wss://api.xiaozhi.me/mcp/?%74oken=***"),
        ("wss://bob:pw@host:8443/mcp?token=x#token=y", "wss://***@host:8443/mcp?token=***"),
        ("ws://host/mcp", "ws://host/mcp"),
        ("ws://host/mcp?tokens=keep&access_token=x", "ws://host/mcp?tokens=keep&access_token=***"),
        ("ws://bob@host/p@th", "ws://***@host/p@th"),
        ("", ""),
        // Already redacted, or nothing secret: returned as they are.
        ("wss://api.xiaozhi.me/mcp/?token=***", "wss://api.xiaozhi.me/mcp/?token=***"),
        ("wss://***@host/mcp?a=1&&token=***&", "wss://***@host/mcp?a=1&&token=***&"),
        ("ws://host/mcp?flag&tokens=x&key", "ws://host/mcp?flag&tokens=x&key"),
        // One secret left among masked ones, an upper-case or encoded name, a fragment: rewritten.
        ("ws://host/mcp?token=***&key=k1", "ws://host/mcp?token=***&key=***"),
        ("ws://host/mcp?Key=k1&token=***", "ws://host/mcp?Key=***&token=***"),
        ("ws://host/mcp?to%6Ben=t&x=1", "ws://host/mcp?to%6Ben=***&x=1"),
        ("ws://host/mcp?token=***#frag", "ws://host/mcp?token=***"),
    ])
    func hidesTokensAndUserinfoOfWebSocketAddresses(address: String, expected: String) {
        #expect(Redaction.webSocketAddress(address) == expected)
    }

    @Test(arguments: [
        ("postgres://pool:s3cret@db:5432/verdure?sslmode=require", "postgres://pool:***@db:5432/verdure?sslmode=require"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("amqps://guest:gu@st@mq/vhost", "amqps://guest:***@mq/vhost"),
        ("redis://cache:6379", "redis://cache:6379"),
        ("postgres://db/x?password=s3cret", "postgres://db/x?password=***"),
        ("redis:s3cret@cache", "redis:***@cache"),
        ("redis://s3cret@cache:6379", "redis://***@cache:6379"),
    ])
    func hidesPasswordsOfConnectionURLs(url: String, expected: String) {
        #expect(Redaction.connectionURL(url) == expected)
    }
}
