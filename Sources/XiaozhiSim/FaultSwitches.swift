import JSON

/// Faults the simulator injects on demand, to exercise the pool's recovery paths.
struct FaultSwitches: Sendable, Hashable, Codable {
    /// Stop accepting TCP connections (the listener closes: clients see "connection refused").
    var refuseNew = false
    /// Hold each upgrade request this long before answering.
    var handshakeDelayMilliseconds = 0
    /// Answer every upgrade with this HTTP status (e.g. 401, 503) instead of 101; nil upgrades.
    var httpStatus: Int?
    /// Faults of single tokens, keyed by tokenId (`fingerprintOf(token)`), so tests never send tokens here.
    var tokens: [String: TokenFaults] = [:]

    /// Upper bound of `tokens`, so the switches stay small whatever a client posts.
    static let maxTokenEntries = 10_000
    /// Upper bound of every delay, in milliseconds (ten minutes).
    static let maxDelayMilliseconds = 600_000

    /// The faults of one token.
    struct TokenFaults: Sendable, Hashable, Codable {
        /// Replaces the global `handshakeDelayMilliseconds` for this token (0 exempts it); nil keeps the global one.
        var handshakeDelayMilliseconds: Int?
        /// Close every session of this token soon after it opens.
        var closeAfterOpen: CloseAfterOpen?

        init(handshakeDelayMilliseconds: Int? = nil, closeAfterOpen: CloseAfterOpen? = nil) {
            self.handshakeDelayMilliseconds = handshakeDelayMilliseconds
            self.closeAfterOpen = closeAfterOpen
        }

        var isEmpty: Bool { handshakeDelayMilliseconds == nil && closeAfterOpen == nil }

        private enum CodingKeys: String, CodingKey {
            case handshakeDelayMilliseconds, closeAfterOpen
        }

        /// Writes every field, null when off, like the global switches.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(handshakeDelayMilliseconds, forKey: .handshakeDelayMilliseconds)
            try container.encode(closeAfterOpen, forKey: .closeAfterOpen)
        }
    }

    /// How a token's sessions are closed after they open (a token revoked on Xiaozhi's side, say).
    struct CloseAfterOpen: Sendable, Hashable, Codable {
        /// The WebSocket close code, valid on the wire (1000-1003, 1007-1014, 3000-4999).
        var code: Int
        /// At most 123 UTF-8 bytes: a close frame's payload is 125 bytes with the code.
        var reason: String
        /// nil closes as soon as the session's `initialize` is answered; n closes n ms after the upgrade.
        var afterMilliseconds: Int?

        init(code: Int, reason: String = "", afterMilliseconds: Int? = nil) {
            self.code = code
            self.reason = reason
            self.afterMilliseconds = afterMilliseconds
        }

        private enum CodingKeys: String, CodingKey {
            case code, reason, afterMilliseconds
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(reason, forKey: .reason)
            try container.encode(afterMilliseconds, forKey: .afterMilliseconds)
        }
    }

    /// A `POST /faults` body that cannot be applied; the message names the field.
    struct InvalidChange: Error, Hashable, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    init(refuseNew: Bool = false, handshakeDelayMilliseconds: Int = 0, httpStatus: Int? = nil, tokens: [String: TokenFaults] = [:]) {
        self.refuseNew = refuseNew
        self.handshakeDelayMilliseconds = handshakeDelayMilliseconds
        self.httpStatus = httpStatus
        self.tokens = tokens
    }

    // MARK: Changes from JSON

    /// The switches after a `POST /faults` body: fields present change, fields absent stay. `httpStatus: null`
    /// clears the status; under `tokens`, an object replaces that token's faults, null clears them, and
    /// `tokens: null` clears every token's. Nothing changes when any value is invalid.
    func applying(_ body: JSONValue) throws(InvalidChange) -> FaultSwitches {
        guard let changes = body.objectFields else { throw InvalidChange("expected a JSON object") }
        var result = self
        for key in changes.keys.sorted() where !["refuseNew", "handshakeDelayMilliseconds", "httpStatus", "tokens"].contains(key) {
            throw InvalidChange("unknown field \(key) (known: refuseNew, handshakeDelayMilliseconds, httpStatus, tokens)")
        }
        if let value = changes["refuseNew"] {
            guard case .bool(let flag) = value else { throw InvalidChange("refuseNew must be a boolean") }
            result.refuseNew = flag
        }
        if let value = changes["handshakeDelayMilliseconds"] {
            guard let delay = value.intValue, (0...Self.maxDelayMilliseconds).contains(delay) else {
                throw InvalidChange("handshakeDelayMilliseconds must be 0-\(Self.maxDelayMilliseconds)")
            }
            result.handshakeDelayMilliseconds = delay
        }
        if let value = changes["httpStatus"] {
            switch value {
            case .null: result.httpStatus = nil
            case .number where value.intValue.map({ (200...599).contains($0) && $0 != 101 }) == true: result.httpStatus = value.intValue
            default: throw InvalidChange("httpStatus must be an HTTP status 200-599 or null")
            }
        }
        switch changes["tokens"] {
        case nil:
            break
        case .null:
            result.tokens = [:]
        case .object(let members):
            let entries = JSONValue.object(members).objectFields ?? [:]
            for tokenId in entries.keys.sorted() {
                guard Self.isTokenId(tokenId) else {
                    throw InvalidChange("tokens: key \(tokenId) must be a tokenId (12 lowercase hex digits, as in the status)")
                }
                let faults = try Self.tokenFaults(entries[tokenId]!, field: "tokens.\(tokenId)")
                result.tokens[tokenId] = faults.isEmpty ? nil : faults
            }
            guard result.tokens.count <= Self.maxTokenEntries else {
                throw InvalidChange("tokens: at most \(Self.maxTokenEntries) tokenIds may have faults")
            }
        default:
            throw InvalidChange("tokens must be an object of tokenId to faults, or null")
        }
        return result
    }

    /// Whether `text` has the shape of `fingerprintOf`'s output.
    static func isTokenId(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    private static func tokenFaults(_ value: JSONValue, field: String) throws(InvalidChange) -> TokenFaults {
        if value == .null { return TokenFaults() }
        guard let fields = value.objectFields else { throw InvalidChange("\(field) must be an object or null") }
        for key in fields.keys.sorted() where !["handshakeDelayMilliseconds", "closeAfterOpen"].contains(key) {
            throw InvalidChange("\(field).\(key) is not a known field (known: handshakeDelayMilliseconds, closeAfterOpen)")
        }
        var faults = TokenFaults()
        switch fields["handshakeDelayMilliseconds"] {
        case nil, .null: break
        case .number(let text) where Int(text).map({ (0...maxDelayMilliseconds).contains($0) }) == true: faults.handshakeDelayMilliseconds = Int(text)
        default: throw InvalidChange("\(field).handshakeDelayMilliseconds must be 0-\(maxDelayMilliseconds) or null")
        }
        switch fields["closeAfterOpen"] {
        case nil, .null: break
        case .object(let members): faults.closeAfterOpen = try closeAfterOpen(JSONValue.object(members).objectFields ?? [:], field: "\(field).closeAfterOpen")
        default: throw InvalidChange("\(field).closeAfterOpen must be an object or null")
        }
        return faults
    }

    private static func closeAfterOpen(_ fields: [String: JSONValue], field: String) throws(InvalidChange) -> CloseAfterOpen {
        for key in fields.keys.sorted() where !["code", "reason", "afterMilliseconds"].contains(key) {
            throw InvalidChange("\(field).\(key) is not a known field (known: code, reason, afterMilliseconds)")
        }
        guard let code = fields["code"]?.intValue, (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
        else {
            throw InvalidChange("\(field).code must be a close code valid on the wire: 1000-1003, 1007-1014 or 3000-4999")
        }
        var close = CloseAfterOpen(code: code)
        switch fields["reason"] {
        case nil, .null: break
        case .string(let reason) where reason.utf8.count <= 123: close.reason = reason
        default: throw InvalidChange("\(field).reason must be a string of at most 123 UTF-8 bytes")
        }
        switch fields["afterMilliseconds"] {
        case nil, .null: break
        case .number(let text) where Int(text).map({ (0...maxDelayMilliseconds).contains($0) }) == true: close.afterMilliseconds = Int(text)
        default: throw InvalidChange("\(field).afterMilliseconds must be 0-\(maxDelayMilliseconds) or null (after initialize)")
        }
        return close
    }

    // MARK: Coding

    private enum CodingKeys: String, CodingKey {
        case refuseNew, handshakeDelayMilliseconds, httpStatus, tokens
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        refuseNew = try container.decode(Bool.self, forKey: .refuseNew)
        handshakeDelayMilliseconds = try container.decode(Int.self, forKey: .handshakeDelayMilliseconds)
        httpStatus = try container.decodeIfPresent(Int.self, forKey: .httpStatus)
        tokens = try container.decodeIfPresent([String: TokenFaults].self, forKey: .tokens) ?? [:]
    }

    /// Always writes `httpStatus`, as null when off, so the status shows every switch.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(refuseNew, forKey: .refuseNew)
        try container.encode(handshakeDelayMilliseconds, forKey: .handshakeDelayMilliseconds)
        try container.encode(httpStatus, forKey: .httpStatus)
        try container.encode(tokens, forKey: .tokens)
    }
}
