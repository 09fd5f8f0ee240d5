import Foundation
import Synchronization

/// Signed-in browsers: a random session id (the cookie's value) per sign-in, with its role and expiry.
/// Kept in memory only, so a restart signs everyone out; bounded, the oldest sign-in giving way.
public final class ConsoleSessions: Sendable {
    public static let cookieName = "xz_console"
    public static let lifetime: TimeInterval = 12 * 3600

    private struct Entry {
        var role: ConsoleRole
        var expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    public init(capacity: Int = 1000) {
        self.capacity = capacity
    }

    /// A new session for `role`; returns its id.
    public func open(_ role: ConsoleRole, now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        entries.withLock { entries in
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                entries.removeValue(forKey: oldest)
            }
            entries[id] = Entry(role: role, expires: now.addingTimeInterval(Self.lifetime))
        }
        return id
    }

    /// The role of a live session, or nil.
    public func role(of id: String, now: Date = Date()) -> ConsoleRole? {
        entries.withLock { entries in
            guard let entry = entries[id] else { return nil }
            guard entry.expires > now else {
                entries.removeValue(forKey: id)
                return nil
            }
            return entry.role
        }
    }

    public func close(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
