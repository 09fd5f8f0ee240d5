/// The configured sign-in tokens, compared in constant time so a response's timing does not reveal how
/// much of a guess was right.
public struct ConsoleTokens: Sendable {
    private let admin: [UInt8]?
    private let viewer: [UInt8]?

    public init(admin: String?, viewer: String?) {
        self.admin = admin.map { Array($0.utf8) }
        self.viewer = viewer.map { Array($0.utf8) }
    }

    /// The role `token` signs in as, or nil.
    public func role(of token: String) -> ConsoleRole? {
        let presented = Array(token.utf8)
        // Both compared every time, so which token matched does not show either.
        let isAdmin = admin.map { Self.equal($0, presented) } ?? false
        let isViewer = viewer.map { Self.equal($0, presented) } ?? false
        if isAdmin { return .admin }
        if isViewer { return .viewer }
        return nil
    }

    static func equal(_ expected: [UInt8], _ presented: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ presented.count)
        for index in 0..<expected.count {
            let other = index < presented.count ? presented[index] : ~expected[index]
            difference |= expected[index] ^ other
        }
        return difference == 0
    }
}
