import Foundation
import Glibc
import Testing
import WebSocket
@testable import Transport

/// A raw TCP server for one connection, driven by a scenario on its own thread: it can send anything.
final class RawPeer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    /// The close code the client sent, once the scenario read it (nil when none came).
    let receivedCloseCode = Locked<UInt16?>(nil)
    let finished = Locked<Bool>(false)

    init(scenario: @escaping @Sendable (RawPeer, Int32) -> Void) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0, let local = Socket.localAddress(listener) else {
            close(listener)
            throw PeerFailure(message: "raw peer cannot listen")
        }
        port = local.port
        let fd = listener
        Thread { [self] in
            let client = accept(fd, nil, nil)
            if client >= 0 {
                scenario(self, client)
                close(client)
            }
            finished.update { $0 = true }
        }.start()
    }

    deinit { close(listener) }

    /// Reads the HTTP request head (up to the blank line).
    func readRequest(_ fd: Int32) -> String {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.ends(with: Array("\r\n\r\n".utf8)) && head.count < 16_384 {
            guard waitReadable(fd, ms: 5000), recv(fd, &byte, 1, 0) == 1 else { break }
            head.append(byte)
        }
        return String(decoding: head, as: UTF8.self)
    }

    /// Answers the request with a valid 101.
    func upgrade(_ fd: Int32) {
        let request = readRequest(fd)
        let key = request.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
        send(fd, WebSocketServerHandshake.acceptResponse(forKey: key))
    }

    func send(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func waitReadable(_ fd: Int32, ms: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, ms) > 0
    }

    /// Reads client frames until a close frame (recording its code) or the end of the stream.
    func readUntilClose(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while waitReadable(fd, ms: 5000) {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            while buffer.count >= 6 {
                let length = Int(buffer[1] & 0x7F)
                guard length < 126, buffer.count >= 6 + length else { break }
                let mask = Array(buffer[2..<6])
                let payload = (0..<length).map { buffer[6 + $0] ^ mask[$0 % 4] }
                if buffer[0] & 0x0F == 0x8 {
                    receivedCloseCode.update { $0 = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005 }
                    return
                }
                buffer.removeFirst(6 + length)
            }
        }
    }

    /// Waits until the client has closed the socket.
    func waitForEOF(_ fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while waitReadable(fd, ms: 5000), recv(fd, &chunk, chunk.count, 0) > 0 {}
    }
}

extension Array where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

@Suite("Hostile servers get a clean error and close code")
struct HostileServerTests {
    /// Upgrades, sends `frame`, records the client's close code.
    private func sessionEnd(afterFrame frame: [UInt8]) async throws -> (WebSocketCloseInfo, UInt16?) {
        let peer = try RawPeer { peer, fd in
            peer.upgrade(fd)
            peer.send(fd, frame)
            peer.readUntilClose(fd)
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: testSessionOptions())
        let (info, _) = await session.waitUntilClosed()
        while !peer.finished.value { try await Task.sleep(for: .milliseconds(10)) }
        return (info, peer.receivedCloseCode.value)
    }

    @Test("invalid UTF-8 in a text frame closes with 1007")
    func invalidUTF8() async throws {
        let (info, sent) = try await sessionEnd(afterFrame: [0x81, 0x02, 0xC3, 0x28])
        #expect(info.code == .invalidPayloadData)
        #expect(info.error == .protocolViolation(.invalidUTF8InText))
        #expect(sent == 1007)
    }

    @Test("a reserved opcode closes with 1002")
    func reservedOpcode() async throws {
        let (info, sent) = try await sessionEnd(afterFrame: [0x83, 0x00])
        #expect(info.code == .protocolError)
        #expect(info.error == .protocolViolation(.reservedOpcode(3)))
        #expect(sent == 1002)
    }

    @Test("a masked frame from the server closes with 1002")
    func maskedFrame() async throws {
        let (info, sent) = try await sessionEnd(afterFrame: [0x81, 0x82, 1, 2, 3, 4, UInt8(ascii: "h") ^ 1, UInt8(ascii: "i") ^ 2])
        #expect(info.code == .protocolError)
        #expect(info.error == .protocolViolation(.maskedFrameFromServer))
        #expect(sent == 1002)
    }

    @Test("a 64-bit length with the top bit set closes with 1002 and allocates nothing")
    func hugeLength() async throws {
        let (info, sent) = try await sessionEnd(afterFrame: [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0])
        #expect(info.code == .protocolError)
        #expect(info.error == .protocolViolation(.payloadLengthTopBitSet))
        #expect(sent == 1002)
    }

    @Test("a frame larger than the limit closes with 1009")
    func frameTooLarge() async throws {
        let (info, sent) = try await sessionEnd(afterFrame: [0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(info.code == .messageTooBig)
        #expect(sent == 1009)
    }

    @Test("a wrong accept key fails the handshake")
    func wrongAcceptKey() async throws {
        let peer = try RawPeer { peer, fd in
            _ = peer.readRequest(fd)
            peer.send(fd, WebSocketServerHandshake.acceptResponse(forKey: "AAAAAAAAAAAAAAAAAAAAAA=="))
            peer.waitForEOF(fd)
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        await #expect(throws: SessionError.handshake(.invalidAccept, url: "ws://127.0.0.1:\(peer.port)/")) {
            _ = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: testSessionOptions())
        }
    }

    @Test("a handshake answer that never ends times out")
    func endlessHandshake() async throws {
        let peer = try RawPeer { peer, fd in
            _ = peer.readRequest(fd)
            peer.send(fd, Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n".utf8))
            peer.waitForEOF(fd)
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        var options = testSessionOptions()
        options.handshakeTimeout = .milliseconds(300)
        await #expect(throws: SessionError.handshakeTimeout(url: "ws://127.0.0.1:\(peer.port)/", after: .milliseconds(300))) {
            _ = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: options)
        }
        #expect(host.sessionCount == 0)
    }

    @Test("an endless stream of header lines fails on the head size limit")
    func headerFlood() async throws {
        let peer = try RawPeer { peer, fd in
            _ = peer.readRequest(fd)
            peer.send(fd, Array("HTTP/1.1 101 Switching Protocols\r\n".utf8))
            let line = Array("X-Filler: \(String(repeating: "x", count: 100))\r\n".utf8)
            for _ in 0..<400 { peer.send(fd, line) }
            peer.waitForEOF(fd)
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        do {
            _ = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: testSessionOptions())
            Issue.record("the handshake succeeded")
        } catch {
            guard case .handshake(.headTooLarge, _) = error else {
                Issue.record("expected headTooLarge, got \(error)")
                return
            }
        }
    }

    @Test("a peer that stops reading fails the session once the outbound limit is passed")
    func peerStopsReading() async throws {
        let release = Locked<Bool>(false)
        let peer = try RawPeer { peer, fd in
            peer.upgrade(fd)
            while !release.value { usleep(10_000) }
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        var options = testSessionOptions()
        options.maxOutboundBytes = 1 << 20
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: options)
        let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
        for _ in 0..<600 { session.send(binary: chunk) }
        let (info, transport) = await session.waitUntilClosed()
        release.update { $0 = true }
        #expect(info.code == .abnormalClosure)
        guard case .outboundBufferFull(let name, let bytes)? = transport else {
            Issue.record("expected outboundBufferFull, got \(String(describing: transport))")
            return
        }
        #expect(name == "127.0.0.1")
        #expect(bytes > 1 << 20)
    }

    @Test("a flood before the message handler is set closes the session with 1008 and holds no more than the limit")
    func floodBeforeTheHandler() async throws {
        let frame = [0x82, 127] + withUnsafeBytes(of: UInt64(64 * 1024).bigEndian) { Array($0) }
            + [UInt8](repeating: 0xA5, count: 64 * 1024)
        let peer = try RawPeer { peer, fd in
            peer.upgrade(fd)
            for _ in 0..<64 { peer.send(fd, frame) }  // 4 MiB
            peer.readUntilClose(fd)
            peer.send(fd, [0x88, 0x02, 0x03, 0xF0])  // the close answered: 1008
            peer.waitForEOF(fd)
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        var options = testSessionOptions()
        options.messageDelivery = .handler
        options.maxHeldBytes = 1 << 20
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: options)
        let (info, _) = await session.waitUntilClosed()
        #expect(info.code == .policyViolation)
        #expect(info.initiator == .local)
        while !peer.finished.value { try await Task.sleep(for: .milliseconds(10)) }
        #expect(peer.receivedCloseCode.value == 1008)
        // What was held is still handed to a handler set late, and it is within the limit.
        let held = Locked<Int>(0)
        session.onMessage { _, message in
            if case .binary(let bytes) = message { held.update { $0 += bytes.count } }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(held.value > 0)
        #expect(held.value <= 1 << 20)
    }

    @Test("a peer that resets the connection ends the session with 1006")
    func peerResets() async throws {
        let peer = try RawPeer { peer, fd in
            peer.upgrade(fd)
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        let host = try SessionHost(threads: 1)
        defer { host.shutdown() }
        let session = try await host.connect("ws://127.0.0.1:\(peer.port)/", options: testSessionOptions())
        let (info, _) = await session.waitUntilClosed()
        #expect(info.code == .abnormalClosure)
        #expect(info.error == .connectionLost)
    }
}
