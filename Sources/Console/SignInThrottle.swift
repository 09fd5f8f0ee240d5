import Foundation

/// Failed sign-ins per client address: after `maxFailures` within `window`, further attempts are refused
/// until the window passes, so a token cannot be guessed at network speed.
public struct SignInThrottle: Sendable {
    public let maxFailures: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]
    /// Addresses tracked at most; past it the table is cleared (a flood of addresses resets, never grows).
    private let maxAddresses = 10_000

    public init(maxFailures: Int = 10, window: TimeInterval = 60) {
        self.maxFailures = maxFailures
        self.window = window
    }

    /// Whether `address` may try now.
    public mutating func allows(_ address: String, now: Date) -> Bool {
        let recent = (failures[address] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[address] = recent.isEmpty ? nil : recent
        return recent.count < maxFailures
    }

    public mutating func failed(_ address: String, now: Date) {
        if failures.count >= maxAddresses { failures.removeAll() }
        failures[address, default: []].append(now)
    }

    public mutating func succeeded(_ address: String) {
        failures.removeValue(forKey: address)
    }
}
