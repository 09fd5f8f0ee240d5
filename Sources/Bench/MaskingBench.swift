import Foundation
import ArgumentParser
import WebSocket

/// Masking throughput of the WebSocket codec on 64 KiB payloads, plus whole-frame encode and decode.
struct MaskingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masking",
        abstract: "WebSocket masking, frame encode and frame decode throughput (GB/s) on 64 KiB payloads."
    )

    @Option(help: "Payload size in bytes.")
    var size = 64 * 1024

    @Option(help: "Seconds to run each measurement.")
    var seconds = 1.0

    mutating func run() async throws {
        try measureAll()
    }

    /// Runs every measurement and prints one line each.
    func measureAll() throws {
        guard size > 0, seconds > 0 else { throw ValidationError("--size and --seconds must be positive") }
        let key = WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D)
        var payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }

        let masking = measure {
            payload.withUnsafeMutableBytes { WebSocketMasking.apply(key, to: $0) }
        }
        report("mask in place", masking)

        let frame = WebSocketFrame.binary(payload)
        let encoder = WebSocketFrameEncoder(role: .client)
        var sink = 0
        let encoding = measure {
            sink &+= encoder.encode(frame).count
        }
        report("encode client frame", encoding)

        let wire = WebSocketFrameEncoder.encode(frame, maskingKey: key)
        let decoding = measure {
            var decoder = WebSocketFrameDecoder(role: .server, maxFramePayloadSize: size)
            decoder.append(wire)
            sink &+= (try? decoder.nextFrame())?.payload.count ?? 0
        }
        report("decode client frame", decoding)
        if sink == 42 { print("") }  // keeps the work observable
    }

    private func measure(_ body: () -> Void) -> (iterations: Int, seconds: Double) {
        for _ in 0..<100 { body() }
        let clock = ContinuousClock()
        let budget = Duration.milliseconds(Int64(seconds * 1000))
        var iterations = 0
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < budget {
            for _ in 0..<64 { body() }
            iterations += 64
            elapsed = clock.now - start
        }
        let components = elapsed.components
        return (iterations, Double(components.seconds) + Double(components.attoseconds) / 1e18)
    }

    private func report(_ name: String, _ result: (iterations: Int, seconds: Double)) {
        let bytes = Double(result.iterations) * Double(size)
        let gbps = bytes / result.seconds / 1e9
        let perCall = result.seconds / Double(result.iterations) * 1e6
        print("\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(format: "%7.2f", gbps)) GB/s  (\(String(format: "%.2f", perCall)) µs per \(size)-byte payload, \(result.iterations) runs)")
    }
}
