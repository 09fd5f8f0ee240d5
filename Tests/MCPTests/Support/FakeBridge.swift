import JSON
import Synchronization
@testable import MCP

/// A bridge double: answers each call with a result naming the tool and echoing its arguments;
/// calls to a tool named in `heldTools` wait until `release(_:)` is called for that tool.
final class FakeBridge: ToolCallBridge {
    private struct State {
        var calls: [ToolCallRequest] = []
        var gates: [String: [CheckedContinuation<Void, Never>]] = [:]
        var released: Set<String> = []
        var cancelled = 0
    }

    private let heldTools: Set<String>
    private let state = Mutex(State())

    init(heldTools: Set<String> = []) {
        self.heldTools = heldTools
    }

    var calls: [ToolCallRequest] { state.withLock { $0.calls } }
    var cancelledCount: Int { state.withLock { $0.cancelled } }

    /// Lets held calls of `tool` answer.
    func release(_ tool: String) {
        let waiting = state.withLock { state in
            state.released.insert(tool)
            return state.gates.removeValue(forKey: tool) ?? []
        }
        for continuation in waiting { continuation.resume() }
    }

    func callTool(_ request: ToolCallRequest) async -> ToolCallOutcome {
        state.withLock { $0.calls.append(request) }
        if heldTools.contains(request.toolName) {
            await withCheckedContinuation { continuation in
                let open = state.withLock { state in
                    if state.released.contains(request.toolName) { return true }
                    state.gates[request.toolName, default: []].append(continuation)
                    return false
                }
                if open { continuation.resume() }
            }
        }
        if Task.isCancelled {
            state.withLock { $0.cancelled += 1 }
            return .failed(BridgeFailure(kind: .cancelled, serviceName: request.service.name, message: "cancelled"))
        }
        let echoed = request.arguments?.jsonText ?? "null"
        return .result(rawJSON: #"{"content":[{"type":"text","text":"\#(request.toolName)"}],"structuredContent":{"arguments":\#(echoed)}}"#)
    }
}

/// Collects what a session server sends, in order, and lets a test wait for the next message.
final class Outbox: Sendable {
    private struct State {
        var messages: [String] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var messages: [String] { state.withLock { $0.messages } }

    func send(_ text: String) {
        let ready = state.withLock { state in
            state.messages.append(text)
            let count = state.messages.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Waits until at least `count` messages were sent, then returns them all.
    func waitFor(count: Int) async -> [String] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.messages.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
        return messages
    }
}

/// Decodes a message the server sent; fails the test when it is not a response.
func response(_ text: String) -> (id: JSONRPCID?, outcome: JSONRPCResponseOutcome)? {
    guard case .success(.response(let id, let outcome)) = JSONRPCCodec.decode(text) else { return nil }
    return (id, outcome)
}

func resultValue(_ text: String) -> JSONValue? {
    guard case .result(let value, _)? = response(text)?.outcome else { return nil }
    return value
}

func errorCode(_ text: String) -> Int? {
    guard case .error(let error)? = response(text)?.outcome else { return nil }
    return error.code
}
