import Foundation
import Testing
import WebSocket

#if canImport(Glibc)
import Glibc
#endif

/// The server side of this module (handshake, unmasking, fragments, pongs, close) against PyPI `websockets`
/// as the client, over real TCP.
@Suite("Conformance against the Python websockets client")
struct PythonClientConformanceTests {
    @Test("the Python client's messages are echoed, its ping answered and its close handshake completed")
    func echoServer() throws {
        let listener = try BlockingListener()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/conformance_client.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "ws://127.0.0.1:\(listener.port)/mcp/?token=abc"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer {
            // No wait after a kill (see `PythonPeer`): Foundation reaps the child itself.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        let fd = try listener.acceptOne()
        // Closed exactly once: a second close could hit a descriptor another test has opened since.
        var fdOpen = true
        defer { if fdOpen { close(fd) } }
        var handshake = WebSocketServerHandshake()
        var request: HTTPRequestHead?
        var leftover: [UInt8] = []
        while request == nil {
            if case .request(let head, let remaining) = try handshake.receive(try readSome(fd)) {
                request = head
                leftover = remaining
            }
        }
        #expect(request?.queryValue("token") == "abc")
        let key = try WebSocketServerHandshake.validate(request!)
        try writeAll(fd, WebSocketServerHandshake.acceptResponse(forKey: key))

        var connection = WebSocketConnection(role: .server, now: .now)
        var actions = connection.bytesReceived(leftover, now: .now)
        var closeInfo: WebSocketCloseInfo?
        var echoed = 0
        while closeInfo == nil {
            for action in actions {
                switch action {
                case .write(let bytes): try writeAll(fd, bytes)
                case .deliver(let message):
                    echoed += 1
                    for reply in try connection.send(message) {
                        if case .write(let bytes) = reply { try writeAll(fd, bytes) }
                    }
                case .closed(let info): closeInfo = info
                }
            }
            if closeInfo != nil { break }
            let bytes = try readSome(fd)
            actions = bytes.isEmpty ? connection.connectionEnded() : connection.bytesReceived(bytes, now: .now)
        }
        close(fd)
        fdOpen = false
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed == "OK\n")
        #expect(process.terminationStatus == 0)
        #expect(echoed == 4)
        #expect(closeInfo == WebSocketCloseInfo(code: .normalClosure, reason: "done", initiator: .peer))
    }
}

/// A loopback listening socket on a free port (tests only).
struct BlockingListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PeerFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw PeerFailure("bind/listen failed: errno \(errno)")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits up to 10 s for one connection, then stops listening.
    func acceptOne() throws -> Int32 {
        defer { close(fd) }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 10_000) == 1 else { throw PeerFailure("the Python client did not connect within 10 s") }
        let client = accept(fd, nil, nil)
        guard client >= 0 else { throw PeerFailure("accept() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return client
    }
}

func readSome(_ fd: Int32) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 65536)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count >= 0 else { throw PeerFailure("read() failed: errno \(errno)") }
    return Array(buffer[..<count])
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { throw PeerFailure("write() failed: errno \(errno)") }
        offset += written
    }
}
