import Foundation
import Testing
import WebSocket

#if canImport(Glibc)
import Glibc
#endif

/// The client side of this module against an independent implementation (PyPI `websockets`) over real TCP.
@Suite("Conformance against the Python websockets server")
struct PythonPeerConformanceTests {
    @Test("the handshake succeeds and the path with its token reaches the server byte for byte")
    func handshakeAndPath() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        #expect(try client.roundTrip(.text("path?")) == .text("/mcp/?token=eyJ.a-b_c%2B=="))
    }

    @Test("text, binary, empty and large messages come back unchanged")
    func echoes() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        #expect(try client.roundTrip(.text("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}")) == .text("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}"))
        #expect(try client.roundTrip(.text("小智 🎤")) == .text("小智 🎤"))
        #expect(try client.roundTrip(.binary([])) == .binary([]))
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(try client.roundTrip(.binary(large)) == .binary(large))
    }

    @Test("a fragmented message with an interleaved ping is reassembled by the server")
    func fragmentsAccepted() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        let encoder = WebSocketFrameEncoder(role: .client)
        var bytes = encoder.encode(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)))
        bytes += encoder.encode(.ping([1]))
        bytes += encoder.encode(WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8)))
        try client.write(bytes)
        #expect(try client.nextMessage() == .text("Hello"))
    }

    @Test("the server's ping is answered and the session carries on")
    func serverPing() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        #expect(try client.roundTrip(.text("ping-me")) == .text("pinged"))
        #expect(try client.roundTrip(.text("still here")) == .text("still here"))
    }

    @Test("the server's close is echoed and reported with its code and reason")
    func serverClose() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        try client.send(.text("close-me"))
        #expect(try client.waitForClose() == WebSocketCloseInfo(code: WebSocketCloseCode(4001), reason: "bye", initiator: .peer))
    }

    @Test("our close is answered by the server and ends the connection cleanly")
    func clientClose() throws {
        let peer = try PythonPeer()
        defer { withExtendedLifetime(peer) {} }
        var client = try BlockingClient(url: peer.url)
        let closing = client.connection.close(code: .goingAway, reason: "done", now: .now)
        client.perform(closing)
        #expect(try client.waitForClose() == WebSocketCloseInfo(code: .goingAway, reason: "done", initiator: .local))
    }
}

/// The Python peer process, stopped when the value goes away.
final class PythonPeer {
    let process = Process()
    let url: WebSocketURL

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/conformance_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while line.last != 0x0A {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else {
                process.waitUntilExit()
                throw PeerFailure("the Python peer exited before printing its port (is `websockets` installed?)")
            }
            line += byte
        }
        guard let port = UInt16(String(decoding: line.dropLast(), as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw PeerFailure("no port from the Python peer")
        }
        url = try WebSocketURL("ws://127.0.0.1:\(port)/mcp/?token=eyJ.a-b_c%2B==")
    }

    deinit {
        // SIGKILL: a child spawned from a test thread may inherit a signal mask that blocks SIGTERM.
        // No wait: Foundation reaps the child itself, and `waitUntilExit` after a kill, from several test
        // threads at once, can block a thread of the shared pool for good (seen in parallel runs).
        kill(process.processIdentifier, SIGKILL)
    }
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A blocking TCP client that drives `WebSocketClientHandshake` and `WebSocketConnection` (tests only).
struct BlockingClient {
    let fd: Int32
    var connection: WebSocketConnection
    private var pending: [WebSocketMessage] = []
    private var closeInfo: WebSocketCloseInfo?

    init(url: WebSocketURL) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        guard fd >= 0 else { throw PeerFailure("socket() failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = url.port.bigEndian
        address.sin_addr.s_addr = inet_addr(url.host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw PeerFailure("connect() failed: errno \(errno)") }

        connection = WebSocketConnection(role: .client, now: .now)
        var handshake = WebSocketClientHandshake(url: url)
        try Self.write(fd, handshake.requestBytes)
        while true {
            let bytes = try Self.read(fd)
            if case .upgraded(_, let remaining) = try handshake.receive(bytes) {
                perform(connection.bytesReceived(remaining, now: .now))
                break
            }
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try Self.write(fd, bytes)
    }

    mutating func send(_ message: WebSocketMessage) throws {
        let actions = try connection.send(message)
        perform(actions)
    }

    mutating func roundTrip(_ message: WebSocketMessage) throws -> WebSocketMessage {
        try send(message)
        return try nextMessage()
    }

    mutating func nextMessage() throws -> WebSocketMessage {
        while pending.isEmpty {
            guard closeInfo == nil else { throw PeerFailure("closed while waiting for a message: \(closeInfo!)") }
            try pump()
        }
        return pending.removeFirst()
    }

    mutating func waitForClose() throws -> WebSocketCloseInfo {
        while closeInfo == nil { try pump() }
        return closeInfo!
    }

    private mutating func pump() throws {
        let bytes = try Self.read(fd)
        if bytes.isEmpty {
            perform(connection.connectionEnded())
        } else {
            perform(connection.bytesReceived(bytes, now: .now))
        }
    }

    mutating func perform(_ actions: [WebSocketConnection.Action]) {
        for action in actions {
            switch action {
            case .write(let bytes): try? Self.write(fd, bytes)
            case .deliver(let message): pending.append(message)
            case .closed(let info):
                closeInfo = info
                close(fd)
            }
        }
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw PeerFailure("write() failed: errno \(errno)") }
            offset += written
        }
    }

    private static func read(_ fd: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw PeerFailure("read() failed: errno \(errno)") }
        return Array(buffer[..<count])
    }
}
