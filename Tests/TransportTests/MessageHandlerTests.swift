import Foundation
import Testing
import WebSocket
@testable import Transport

/// Messages handed to a handler on the session's loop thread instead of `events`.
@Suite("Sessions with a message handler")
struct MessageHandlerTests {
    /// Collects what a handler is given and wakes a waiter once `count` messages are in.
    final class Collector: Sendable {
        private let state = Locked<(messages: [WebSocketMessage], waiter: CheckedContinuation<Void, Never>?, count: Int)>(([], nil, 0))

        func add(_ message: WebSocketMessage) {
            var waiter: CheckedContinuation<Void, Never>?
            state.update { state in
                state.messages.append(message)
                if state.messages.count >= state.count, let pending = state.waiter {
                    state.waiter = nil
                    waiter = pending
                }
            }
            waiter?.resume()
        }

        var messages: [WebSocketMessage] { state.value.messages }

        /// Waits until `count` messages are in (the test's time limit bounds it).
        func wait(for count: Int) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                var ready = false
                state.update { state in
                    if state.messages.count >= count {
                        ready = true
                    } else {
                        state.count = count
                        state.waiter = continuation
                    }
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// A client session to the peer's `path` whose messages wait for a handler (delivery `.handler`).
    static func connectForHandler(_ host: SessionHost, peer: PeerProcess, path: String) async throws -> WebSocketSession {
        var options = testSessionOptions()
        options.messageDelivery = .handler
        return try await host.connect("ws://127.0.0.1:\(peer.port)\(path)", options: options)
    }

    @Test("with delivery .handler, what the server sends first waits for the handler, in order, and never reaches events",
          .timeLimit(.minutes(1)))
    func heldUntilTheHandlerIsSet() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await Self.connectForHandler(host, peer: peer, path: "/fragments")
        // The peer sends both messages right after the upgrade; let them arrive before there is a handler.
        try await Task.sleep(for: .milliseconds(200))
        let collector = Collector()
        session.onMessage { _, message in collector.add(message) }
        await collector.wait(for: 2)
        #expect(collector.messages == [.text("fragmented text ✓"), .binary([0, 1, 2, 3, 4])])
        session.close()
        var reader = EventReader(session)
        let first = await reader.next()
        guard case .closed(let info, _)? = first else {
            Issue.record("expected the close as the first event, got \(String(describing: first))")
            return
        }
        #expect(info.code == .normalClosure)
    }

    @Test("a handler that sends from the loop keeps 500 round trips with the websockets peer in order",
          .timeLimit(.minutes(1)))
    func handlerEchoesWithThePeer() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await Self.connectForHandler(host, peer: peer, path: "/echo")
        let collector = Collector()
        let rounds = 500
        session.onMessage { session, message in
            collector.add(message)
            let received = collector.messages.count
            // The next message goes from the loop thread, inside the handler.
            if received < rounds { session.send(text: "message \(received)") }
        }
        session.send(text: "message 0")
        await collector.wait(for: rounds)
        #expect(collector.messages == (0..<rounds).map { .text("message \($0)") })
        session.close()
        var reader = EventReader(session)
        #expect(await reader.closing()?.0.code == .normalClosure)
    }

    @Test("a server's handler set in onSession gets every message, answers from the loop, and may speak first",
          .timeLimit(.minutes(1)))
    func serverHandler() async throws {
        let host = try SessionHost(threads: 2)
        defer { host.shutdown() }
        let server = try host.listen { session, _ in
            session.onMessage { session, message in
                if case .text(let text) = message { session.send(text: "echo: " + text) }
            }
            session.send(text: "hello")
        }
        defer { server.close() }
        let session = try await host.connect("ws://127.0.0.1:\(server.port)/", options: testSessionOptions())
        var reader = EventReader(session)
        #expect(await reader.message() == .text("hello"))
        for text in ["one", "two", "three ✓"] { session.send(text: text) }
        for text in ["one", "two", "three ✓"] { #expect(await reader.message() == .text("echo: " + text)) }
        session.close(code: WebSocketCloseCode(4001), reason: "done")
        #expect(await reader.closing()?.0.code == WebSocketCloseCode(4001))
    }

    @Test("a handler set on a session delivering to events takes the messages that come after it",
          .timeLimit(.minutes(1)))
    func switchToHandler() async throws {
        let peer = try await PeerProcess(script: "ws_peer.py")
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/echo", options: testSessionOptions())
        var reader = EventReader(session)
        session.send(text: "before")
        #expect(await reader.message() == .text("before"))
        let collector = Collector()
        session.onMessage { _, message in collector.add(message) }
        session.send(text: "after")
        await collector.wait(for: 1)
        #expect(collector.messages == [.text("after")])
        session.close()
        let next = await reader.next()
        guard case .closed? = next else {
            Issue.record("expected only the close on events after the handler was set, got \(String(describing: next))")
            return
        }
    }
}
