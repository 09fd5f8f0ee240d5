import JSON
import Foundation
import Logging
import Transport
import WebSocket

/// The simulator's status and fault switches over HTTP (loopback tooling, not the data path), on
/// `Transport`'s HTTP server with a loop of its own; every response closes.
///
/// - `GET /status`: `SimulatorStatus` as JSON (with `closesAfterOpen` and the per-tokenId maps
///   `connectsByTokenId`, `evictionsByTokenId`, `closesAfterOpenByTokenId`).
/// - `GET /counts`: `SimulatorCounts`, the counters without the session list or the per-tokenId maps.
/// - `GET /faults`, `POST /faults`: read or change the fault switches (`FaultSwitches.applying`). The body
///   is a JSON object with any of `refuseNew`, `handshakeDelayMilliseconds`, `httpStatus` (null clears it)
///   and `tokens`: `{"<tokenId>": {"handshakeDelayMilliseconds": n, "closeAfterOpen": {"code": 1008,
///   "reason": "...", "afterMilliseconds": n}}}`. A token's object replaces its faults, null clears them,
///   `"tokens": null` clears all; `handshakeDelayMilliseconds` replaces the global delay for that token;
///   `closeAfterOpen` closes every new session of the token once its `initialize` is answered, or
///   `afterMilliseconds` after the upgrade. A bad value is answered 400 naming the field, changing nothing.
/// - `POST /faults/drop-all`: close every session with 1001.
/// - `POST /faults/drop` (`{"tokenIds": ["<tokenId>", ...]}`): close those tokens' sessions with 1001.
/// - `POST /call` (`{"token" or "tokenId", "name", "arguments", "timeoutMilliseconds"}`): send `tools/call`
///   on that token's session and answer with the MCP answer (404 without a session, 504 on timeout).
final class StatusServer: Sendable {
    let port: Int
    private let group: EventLoopGroup
    private let server: HTTPServer
    private let simulator: SimulatorServer
    private let logger: Logger

    /// Binds and serves at once.
    init(host: String, port: Int, simulator: SimulatorServer, logger: Logger) throws {
        self.simulator = simulator
        self.logger = logger
        group = try EventLoopGroup(threads: 1)
        // A tool call may wait up to its own timeout: the server's answer deadline leaves room for it.
        let limits = HTTPServerLimits(maxBodyBytes: 1 << 20, responseTimeout: .seconds(300))
        let answer = Answerer()
        do {
            server = try HTTPServer(host: host, port: port, group: group, limits: limits) { request in
                await answer.respond(request)
            }
        } catch {
            group.shutdown()
            throw SimulatorError("status port \(port): \(error)")
        }
        self.port = server.port
        answer.server = self
    }

    /// Stops serving.
    func close() {
        server.close()
        group.shutdown()
    }

    /// The handler's way to this server, set once the server is built.
    private final class Answerer: @unchecked Sendable {
        weak var server: StatusServer?

        func respond(_ request: HTTPRequest) async -> HTTPReply {
            guard let server else { return .response(HTTPResponse(status: 503)) }
            let (status, json) = await server.respond(to: request.head, body: String(decoding: request.body, as: UTF8.self))
            return .response(HTTPResponse(status: status, contentType: "application/json", text: json.jsonText + "\n"))
        }
    }

    private func respond(to request: HTTPRequestHead, body: String) async -> (Int, JSONValue) {
        switch (request.method, request.path) {
        case ("GET", "/status"):
            return (200, Self.json(simulator.status()))
        case ("GET", "/counts"):
            return (200, Self.json(simulator.counts()))
        case ("GET", "/faults"):
            return (200, Self.json(simulator.faults))
        case ("POST", "/faults"), ("PUT", "/faults"):
            guard let changes = (try? JSONValue(parsing: body)) else { return (400, ["error": "expected a JSON object"]) }
            let faults: FaultSwitches
            do {
                faults = try simulator.changeFaults(changes)
            } catch let error as FaultSwitches.InvalidChange {
                return (400, ["error": .string(error.description)])
            } catch {
                return (500, ["error": .string("\(error)")])
            }
            logger.info("fault switches now \(Self.json(faults).jsonText)")
            return (200, Self.json(faults))
        case ("POST", "/faults/drop-all"):
            return (200, ["dropped": .integer(simulator.dropAll())])
        case ("POST", "/faults/drop"):
            guard let ids = (try? JSONValue(parsing: body))?["tokenIds"]?.arrayValue else {
                return (400, ["error": "expected {\"tokenIds\": [\"<tokenId>\", ...]}"])
            }
            var tokenIds: Set<String> = []
            for id in ids {
                guard let tokenId = id.stringValue, FaultSwitches.isTokenId(tokenId) else {
                    return (400, ["error": .string("tokenIds: \(id.jsonText) is not a tokenId (12 lowercase hex digits, as in the status)")])
                }
                tokenIds.insert(tokenId)
            }
            return (200, ["dropped": .integer(simulator.drop(tokenIds: tokenIds))])
        case ("POST", "/call"):
            guard let call = (try? JSONValue(parsing: body)), let name = call["name"]?.stringValue else {
                return (400, ["error": "expected {\"token\" or \"tokenId\", \"name\", \"arguments\"}"])
            }
            let timeout = Duration.milliseconds(Int64(call["timeoutMilliseconds"]?.intValue ?? 10_000))
            let outcome = await simulator.callTool(
                token: call["token"]?.stringValue, tokenId: call["tokenId"]?.stringValue, name: name,
                arguments: call["arguments"] ?? [:], timeout: timeout)
            switch outcome {
            case .answered(let answer): return (200, Self.json(answer))
            case .noSession: return (404, ["error": "no session holds that token"])
            case .timedOut: return (504, ["error": "no answer within the timeout"])
            }
        default:
            return (404, ["error": "unknown endpoint"])
        }
    }

    private static func json(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(value), let parsed = try? JSONValue(parsing: Array(data)) else {
            return .null
        }
        return parsed
    }
}

/// A startup failure of the simulator, with what went wrong.
struct SimulatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
