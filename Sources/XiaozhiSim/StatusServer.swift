import Foundation
import Glibc
import Logging
import Synchronization
import WebSocket

/// A small HTTP/1.1 server for the simulator's status and fault switches (loopback tooling, not the data
/// path): one thread accepts, one short-lived thread serves each request, every response closes.
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
    private let fd: Int32
    private let simulator: SimulatorServer
    private let logger: Logger

    init(host: String, port: Int, simulator: SimulatorServer, logger: Logger) throws {
        self.simulator = simulator
        self.logger = logger
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw SimulatorError("status socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketFD)
            throw SimulatorError("status host must be an IPv4 address, got '\(host)'")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 64) == 0 else {
            let code = errno
            close(socketFD)
            throw SimulatorError("status port \(port): \(String(cString: strerror(code)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        self.fd = socketFD
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the accept thread.
    func start() {
        let thread = Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                Thread.detachNewThread { [self] in serve(client) }
            }
        }
        thread.name = "status-accept"
        thread.start()
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var parser = HTTPHeadParser(maxHeadSize: 16 * 1024)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var request: HTTPRequestHead?
        var body: [UInt8] = []
        while request == nil {
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            do {
                if case .complete(let head, let remaining) = try parser.parseRequest(buffer[..<count]) {
                    request = head
                    body = remaining
                }
            } catch {
                write(client, status: 400, json: ["error": .string(error.description)])
                return
            }
        }
        guard let request else { return }
        let length = Int(request.headers["Content-Length"] ?? "0") ?? 0
        guard length <= 1 << 20 else {
            write(client, status: 413, json: ["error": "body too large"])
            return
        }
        while body.count < length {
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            body += buffer[..<count]
        }
        let (status, json) = respond(to: request, body: String(decoding: body.prefix(length), as: UTF8.self))
        write(client, status: status, json: json)
    }

    private func respond(to request: HTTPRequestHead, body: String) -> (Int, JSONValue) {
        switch (request.method, request.path) {
        case ("GET", "/status"):
            return (200, Self.json(simulator.status()))
        case ("GET", "/counts"):
            return (200, Self.json(simulator.counts()))
        case ("GET", "/faults"):
            return (200, Self.json(simulator.faults))
        case ("POST", "/faults"), ("PUT", "/faults"):
            guard let changes = JSONValue.parse(body) else { return (400, ["error": "expected a JSON object"]) }
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
            return (200, ["dropped": .int(simulator.dropAll())])
        case ("POST", "/faults/drop"):
            guard let ids = JSONValue.parse(body)?["tokenIds"]?.arrayValue else {
                return (400, ["error": "expected {\"tokenIds\": [\"<tokenId>\", ...]}"])
            }
            var tokenIds: Set<String> = []
            for id in ids {
                guard let tokenId = id.stringValue, FaultSwitches.isTokenId(tokenId) else {
                    return (400, ["error": .string("tokenIds: \(id.jsonText) is not a tokenId (12 lowercase hex digits, as in the status)")])
                }
                tokenIds.insert(tokenId)
            }
            return (200, ["dropped": .int(simulator.drop(tokenIds: tokenIds))])
        case ("POST", "/call"):
            guard let call = JSONValue.parse(body), let name = call["name"]?.stringValue else {
                return (400, ["error": "expected {\"token\" or \"tokenId\", \"name\", \"arguments\"}"])
            }
            let timeout = Duration.milliseconds(Int64(call["timeoutMilliseconds"].flatMap { if case .int(let ms) = $0 { ms } else { nil } } ?? 10_000))
            let outcome = blocking {
                await self.simulator.callTool(
                    token: call["token"]?.stringValue, tokenId: call["tokenId"]?.stringValue, name: name,
                    arguments: call["arguments"] ?? [:], timeout: timeout)
            }
            switch outcome {
            case .answered(let answer): return (200, Self.json(answer))
            case .noSession: return (404, ["error": "no session holds that token"])
            case .timedOut: return (504, ["error": "no answer within the timeout"])
            }
        default:
            return (404, ["error": "unknown endpoint"])
        }
    }

    /// Runs async work from this request's own thread (never a cooperative-pool thread).
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await work()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    private static func json(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(value), let parsed = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .null
        }
        return parsed
    }

    private func write(_ client: Int32, status: Int, json: JSONValue) {
        let body = Array((json.jsonText + "\n").utf8)
        var head = "HTTP/1.1 \(status) \(WebSocketServerHandshake.reasonPhrase(status))\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(client, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// A startup failure of the simulator, with what went wrong.
struct SimulatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
