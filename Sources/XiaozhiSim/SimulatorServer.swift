import JSON
import Foundation
import Logging
import Synchronization
import Transport
import WebSocket

/// The I/O shell of the simulator: a WebSocket server on the Transport session host that feeds the pure
/// `SimulatorCore` and carries out its actions, plus the fault switches that touch the listener.
final class SimulatorServer: Sendable {
    private let core: LockedCore
    private let sessions = Mutex<[SessionID: WebSocketSession]>([:])
    private let server = Mutex<WebSocketServer?>(nil)
    private let host: SessionHost
    private let bindHost: String
    private let options: ServerOptions
    private let logger: Logger
    private let boundPort: Atomic<Int>

    /// The port served (fixed by the first bind, so a listener closed by `refuseNew` comes back on it).
    var port: Int { boundPort.load(ordering: .relaxed) }

    init(host: String, port: Int, configuration: SimulatorCore.Configuration, connection: WebSocketConnection.Configuration,
         tls: TLSContext? = nil, logger: Logger) throws {
        let core = LockedCore(SimulatorCore(configuration: configuration))
        self.core = core
        self.host = try SessionHost(threads: 2)
        self.bindHost = host
        self.logger = logger
        // A handshake delay (global or the token's own) holds the upgrade's answer on a timer, as a slow or
        // distant Xiaozhi would; other handshakes and sessions go on meanwhile.
        options = ServerOptions(tls: tls, connection: connection, accept: { request in
            switch core.withLock({ $0.decideHandshake(request) }) {
            case .upgrade: return nil
            case .refuse(let status): return status
            }
        }, answerDelay: { request in
            .milliseconds(core.withLock { $0.handshakeDelayMilliseconds(for: request) })
        })
        boundPort = Atomic(port)
        try startListening()
    }

    /// Runs the timer of MCP pings and timed close-after-open faults until cancelled; it wakes at the next
    /// deadline (at least every 250 ms, so deadlines added meanwhile are late by at most that).
    func run() async {
        while !Task.isCancelled {
            let (actions, next) = core.withLock { core in (core.tick(now: .now), core.nextDeadline) }
            perform(actions)
            let wait = next.map { min(.milliseconds(250), max(.milliseconds(5), $0 - .now)) } ?? .milliseconds(250)
            try? await Task.sleep(for: wait)
        }
    }

    // MARK: Control (status endpoint)

    func status() -> SimulatorStatus {
        core.withLock { $0.status() }
    }

    func counts() -> SimulatorCounts {
        core.withLock { $0.counts() }
    }

    var faults: FaultSwitches {
        core.withLock { $0.faults }
    }

    /// Applies a `POST /faults` body (see `FaultSwitches.applying`) under the core's lock, so concurrent
    /// changes for different tokens do not undo each other; returns the switches now in force.
    func changeFaults(_ body: JSONValue) throws -> FaultSwitches {
        let outcome = core.withLock { core -> Result<FaultSwitches, FaultSwitches.InvalidChange> in
            do throws(FaultSwitches.InvalidChange) {
                core.faults = try core.faults.applying(body)
                return .success(core.faults)
            } catch {
                return .failure(error)
            }
        }
        let faults = try outcome.get()
        try applyListener(faults)
        return faults
    }

    /// Applies new fault switches; `refuseNew` closes or reopens the listener.
    func setFaults(_ faults: FaultSwitches) throws {
        core.withLock { $0.faults = faults }
        try applyListener(faults)
    }

    private func applyListener(_ faults: FaultSwitches) throws {
        if faults.refuseNew {
            server.withLock { listener in
                listener?.close()
                listener = nil
            }
            logger.info("fault: refusing new connections")
        } else if server.withLock({ $0 == nil }) {
            try startListening()
            logger.info("fault cleared: accepting connections again")
        }
    }

    /// Closes every session with 1001; returns how many.
    func dropAll() -> Int {
        let actions = core.withLock { $0.dropAll() }
        perform(actions)
        logger.info("fault: dropped \(actions.count) sessions")
        return actions.count
    }

    /// Closes the sessions of these tokenIds with 1001; returns how many.
    func drop(tokenIds: Set<String>) -> Int {
        let actions = core.withLock { $0.drop(tokenIds: tokenIds) }
        perform(actions)
        logger.info("fault: dropped \(actions.count) sessions of \(tokenIds.count) tokenIds")
        return actions.count
    }

    /// Calls a tool on the session holding the token and waits for the answer.
    func callTool(token: String?, tokenId: String?, name: String, arguments: JSONValue, timeout: Duration) async -> CallOutcome {
        guard let call = core.withLock({ $0.callTool(token: token, tokenId: tokenId, name: name, arguments: arguments, now: .now) }) else {
            return .noSession
        }
        perform(call.actions)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = core.withLock({ $0.answer(session: call.session, requestID: call.requestID) }) { return .answered(answer) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return .timedOut
    }

    enum CallOutcome: Sendable {
        case answered(MCPClientScript.Answer)
        case noSession
        case timedOut
    }

    func shutdown() {
        server.withLock { $0?.close() }
        let open = sessions.withLock { Array($0.values) }
        for session in open { session.close(code: .goingAway, reason: "simulator stopping") }
    }

    // MARK: Sessions

    private func startListening() throws {
        let listener = try host.listen(host: bindHost, port: port, options: options) { [weak self] session, request in
            guard let self else {
                session.close(code: .goingAway, reason: "simulator stopping")
                return
            }
            self.opened(session, request: request)
        }
        boundPort.store(listener.port, ordering: .relaxed)
        server.withLock { $0 = listener }
    }

    private func opened(_ session: WebSocketSession, request: HTTPRequestHead) {
        let (id, actions) = core.withLock { $0.sessionOpened(request, now: .now, wallClock: Date()) }
        sessions.withLock { $0[id] = session }
        logger.info("session \(id) opened from \(session.peer)")
        perform(actions)
        // Runs on the session's loop (as this callback does), so no message comes before the handler.
        session.onMessage { [self] _, message in
            guard case .text(let text) = message else { return }
            let replies = core.withLock { $0.messageReceived(text, session: id, now: .now) }
            perform(replies)
        }
        Task { [self] in
            for await event in session.events {
                switch event {
                case .message:
                    break
                case .closed(let info, _):
                    core.withLock { $0.sessionClosed(id) }
                    sessions.withLock { _ = $0.removeValue(forKey: id) }
                    logger.info("session \(id) \(info)")
                }
            }
        }
    }

    private func perform(_ actions: [SimulatorCore.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let text):
                sessions.withLock { $0[id] }?.send(text: text)
            case .close(let id, let code, let reason):
                sessions.withLock { $0[id] }?.close(code: code, reason: reason)
            }
        }
    }
}

/// The simulator core behind a lock, shareable with the accept closure built before the server exists.
private final class LockedCore: Sendable {
    private let mutex: Mutex<SimulatorCore>

    init(_ core: SimulatorCore) {
        mutex = Mutex(core)
    }

    func withLock<T>(_ body: (inout SimulatorCore) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
