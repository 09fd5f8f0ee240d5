import ArgumentParser
import WebSocket

/// The pure state machine's share of one echoed message, without sockets: a client `WebSocketConnection`
/// takes the server's frame of a text message and sends the text back, and a server connection takes
/// the client's masked frame and sends it back. The figure is the user-space floor under `bench session`.
struct CodecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Nanoseconds per echoed message in the WebSocket state machine alone (client and server side)."
    )

    @Option(help: "Text payload size in bytes.")
    var size = 1024

    @Option(help: "Seconds to run each side.")
    var seconds = 1.0

    mutating func run() async throws {
        guard size > 0, seconds > 0 else { throw ValidationError("--size and --seconds must be positive") }
        let text = String(repeating: "x", count: size)
        let fromServer = WebSocketFrameEncoder.encode(.text(text), maskingKey: nil)
        let fromClient = WebSocketFrameEncoder.encode(.text(text), maskingKey: WebSocketMaskingKey(1, 2, 3, 4))
        for (role, wire) in [(WebSocketRole.client, fromServer), (.server, fromClient)] {
            let (echoed, elapsed) = echo(role: role, wire: wire)
            let nanos = elapsed.seconds * 1e9 / Double(echoed)
            print(String(format: "%@ side: %.0f ns per echoed %d-byte text message (%d messages)",
                         role == .client ? "client" : "server", nanos, size, echoed))
        }
    }

    /// Feeds `wire` to a connection of `role` and sends every delivered message back, for `seconds`.
    private func echo(role: WebSocketRole, wire: [UInt8]) -> (Int, Duration) {
        let clock = ContinuousClock()
        let configuration = WebSocketConnection.Configuration(pingInterval: .seconds(25), silenceTimeout: .seconds(120))
        var machine = WebSocketConnection(role: role, configuration: configuration, now: clock.now)
        var written = 0
        var echoed = 0
        // The bytes arrive in a read buffer, as from a socket, and the machine may unmask them there.
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: wire.count, alignment: 16)
        defer { readBuffer.deallocate() }
        let budget = Duration.milliseconds(Int64(seconds * 1000))
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < budget {
            for _ in 0..<256 {
                wire.withUnsafeBytes { readBuffer.copyMemory(from: $0) }
                let actions = machine.bytesReceived(readBuffer, now: clock.now)
                for case .deliver(let message) in actions {
                    for case .write(let bytes) in (try? machine.send(message)) ?? [] { written &+= bytes.count }
                    echoed += 1
                }
            }
            elapsed = clock.now - start
        }
        precondition(written >= echoed * size, "every delivered message is sent back")
        return (echoed, elapsed)
    }
}
