/// Fuzzes the parsing of an endpoint's address, a config value users write into the endpoint table: what is
/// accepted must be usable and stable, and what is logged of it (accepted or refused) must never carry the
/// query, where the token lives, nor a control character that could forge a log line.
///
/// The input is the address text (invalid UTF-8 is replaced, as the database driver hands over a string).

/// What a redacted address may be at most: the 200 characters kept of a refused address and the `?***`.
private let longestRedaction = 204

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketURL(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let address = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    switch Result(catching: { () throws(WebSocketURLError) in try WebSocketURL(address) }) {
    case .success(let url): checkAccepted(url)
    case .failure(let error): checkRefused(error, address: address)
    }
    return 0
}

/// An accepted address is a ws/wss address with a lower-case host, a port and a target starting at `/`;
/// written out, it parses to itself; its redacted form parses too and does not change when the query
/// values do (the query starts at the first `?` byte, as the server reads it).
private func checkAccepted(_ url: WebSocketURL) {
    require(!url.host.isEmpty && url.host == url.host.lowercased(), "host '\(url.host)' is empty or not lower-cased")
    require(url.port > 0, "port 0 accepted")
    require(url.requestTarget.hasPrefix("/"), "request target does not start at /")
    require(!url.absoluteString.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "#") },
            "an accepted address holds white space, a control character or a fragment")
    require(url.query.map { url.requestTarget == url.path + "?" + $0 } ?? (url.requestTarget == url.path),
            "path and query do not make up the request target")
    require(url.description == url.redacted, "the description is not the redacted address")

    let again = Result(catching: { () throws(WebSocketURLError) in try WebSocketURL(url.absoluteString) })
    require(again == .success(url), "\(url.redacted) written out parses as \(again)")

    let redacted = Result(catching: { () throws(WebSocketURLError) in try WebSocketURL(url.redacted) })
    guard case .success(let shown) = redacted else { return require(false, "the redacted address does not parse: \(redacted)") }
    require(shown.host == url.host && shown.port == url.port, "redaction changed the host or port")

    // Two addresses that differ from this one only in their query values must be shown the same.
    let bytes = Array(url.absoluteString.utf8)
    guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return }
    let shownVariants = [UInt8(ascii: "v"), UInt8(ascii: "w")].map { extra in
        let variant = Array(bytes[...mark]) + extendingValues(Array(bytes[(mark + 1)...]), with: extra)
        return Result(catching: { () throws(WebSocketURLError) in try WebSocketURL(String(decoding: variant, as: UTF8.self)).redacted })
    }
    guard case .success(let first) = shownVariants[0], case .success(let second) = shownVariants[1] else {
        return require(false, "the address with other query values is refused: \(shownVariants)")
    }
    require(first == second, "a query value shows in the redacted address")
}

/// The query with `extra` appended to every value (to the whole parameter when it has no `=`); an empty
/// parameter holds nothing to hide and stays empty.
private func extendingValues(_ query: [UInt8], with extra: UInt8) -> [UInt8] {
    let parameters = query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false).map { (parameter) -> [UInt8] in
        parameter.isEmpty ? [] : Array(parameter) + [extra]
    }
    return Array(parameters.joined(separator: [UInt8(ascii: "&")]))
}

/// A refused address is described briefly, without control characters, and without anything that depends on
/// its query or fragment (from the first `?` or `#` byte) or on its user info (before the last `@` ahead of them).
private func checkRefused(_ error: WebSocketURLError, address: String) {
    let shown = error.redactedAddress
    require(shown.count <= longestRedaction, "a redacted address of \(shown.count) characters")
    require(!shown.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "a control character in a logged address")
    require(!error.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "a control character in the error")

    // Two addresses that differ from this one only in their secrets must be shown the same.
    let text = Array(address.trimmingWhitespace().utf8)
    let cut = text.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? text.count
    let separator = Array("://".utf8)
    let authorityStart = (0..<max(0, cut - 2)).first { text[$0...].starts(with: separator) }.map { $0 + 3 } ?? 0
    let at = text[..<cut].lastIndex(of: UInt8(ascii: "@")).flatMap { $0 >= authorityStart ? $0 : nil }
    guard cut < text.count || at != nil else { return }
    var shownVariants: [String] = []
    for extra in [UInt8(ascii: "v"), UInt8(ascii: "w")] {
        var variant = text
        if cut < text.count { variant.append(extra) }
        if let at { variant.insert(extra, at: at) }
        switch Result(catching: { () throws(WebSocketURLError) in try WebSocketURL(String(decoding: variant, as: UTF8.self)) }) {
        // Another secret made the address valid: there is nothing to compare.
        case .success: return
        case .failure(let variantError): shownVariants.append(variantError.redactedAddress)
        }
    }
    require(shownVariants[0] == shownVariants[1], "a refused address shows its query, fragment or user info")
}
