/// Fuzzes what a WebSocket endpoint does with the bytes its peer sends: frame decoding (buffered and in
/// place), message assembly, the connection state machine, UTF-8 validation and unmasking. Xiaozhi's server
/// is the peer in production, so none of these bytes can be trusted.
///
/// Settings (see `FuzzInput`): byte 0 bit 0 picks the receiving role (0 client, 1 server); byte 1 is the
/// piece after which the connection closes locally (0: never); bytes 2-4 the piece lengths (each less one);
/// bytes 5-8 a masking key. Everything after is the received byte stream.

/// Small limits, so that the fuzzer reaches them with short inputs.
private let frameLimit = 64
private let messageLimit = 100
/// A frame header is at most 2 bytes, an 8-byte length and a 4-byte masking key.
private let longestHeader = 14

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrames(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = FuzzInput(bytes, count: count, settingCount: 9)
    let role: WebSocketRole = input.flag(0, bit: 0) ? .server : .client
    let pieces = FuzzInput.pieces(of: input.data, lengths: Array(input.settings[2...4]))
    let key = WebSocketMaskingKey(input.setting(5), input.setting(6), input.setting(7), input.setting(8))

    let expected = ReferenceFrameReader.read(input.data, role: role, maxPayload: frameLimit)
    checkDecoder(input.data, pieces: pieces, role: role, expected: expected, key: key)
    checkConnection(input.data, pieces: pieces, role: role, closeAfterPiece: Int(input.setting(1)), expected: expected)
    checkUTF8Validator(input.data, pieces: pieces)
    checkMasking(input.data, key: key, pieces: pieces)
    return 0
}

// MARK: Frame decoder

/// Every way of feeding the decoder yields the reference's frames and error, and none buffers more than one
/// incomplete frame or yields a payload over the limit.
private func checkDecoder(
    _ data: [UInt8], pieces: [[UInt8]], role: WebSocketRole,
    expected: (frames: [ReferenceFrameReader.ReadFrame], error: WebSocketProtocolError?), key: WebSocketMaskingKey
) {
    let want = expected.frames.map(\.frame)
    for frame in want {
        require(frame.payload.count <= frameLimit, "reference frame over the limit")
        checkReencoding(frame, role: role, key: key)
    }

    // `append` + `nextFrame`, piece by piece: the path that copies.
    var copying = WebSocketFrameDecoder(role: role, maxFramePayloadSize: frameLimit)
    var copied: [WebSocketFrame] = []
    var copyError: WebSocketProtocolError?
    pieces: for piece in pieces {
        copying.append(piece)
        while true {
            let next = Result(catching: { () throws(WebSocketProtocolError) in try copying.nextFrame() })
            guard case .success(let frame?) = next else {
                if case .failure(let error) = next { copyError = error; break pieces }
                break
            }
            copied.append(frame)
        }
        require(copying.bufferedByteCount < longestHeader + frameLimit,
                "copying decoder buffers \(copying.bufferedByteCount) bytes, more than one incomplete frame")
    }
    compare(copied, copyError, with: want, expected.error, path: "append/nextFrame")

    // `decode` over each piece in place, the path the socket reader takes.
    let inPlace = decodeInPlace(pieces, role: role)
    compare(inPlace.frames, inPlace.error, with: want, expected.error, path: "decode in place")

    // All bytes at once, buffered then decoded in the buffer.
    var buffered = WebSocketFrameDecoder(role: role, maxFramePayloadSize: frameLimit)
    buffered.append(data)
    var whole: [WebSocketFrame] = []
    let pass = Result(catching: { () throws(WebSocketProtocolError) in
        try buffered.decodeBuffered { view in
            whole.append(WebSocketFrame(fin: view.fin, opcode: view.opcode, payload: Array(view.payload)))
            return true
        }
    })
    compare(whole, pass.failure, with: want, expected.error, path: "decodeBuffered")
}

/// Feeds each piece to `decode`, which unmasks in the caller's memory, and collects the frames it lends.
private func decodeInPlace(_ pieces: [[UInt8]], role: WebSocketRole) -> (frames: [WebSocketFrame], error: WebSocketProtocolError?) {
    var decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: frameLimit)
    var frames: [WebSocketFrame] = []
    for piece in pieces {
        var scratch = piece
        let pass = scratch.withUnsafeMutableBytes { buffer in
            Result(catching: { () throws(WebSocketProtocolError) in
                try decoder.decode(buffer) { view in
                    require(view.payload.count <= frameLimit, "in-place frame of \(view.payload.count) bytes over the limit")
                    frames.append(WebSocketFrame(fin: view.fin, opcode: view.opcode, payload: Array(view.payload)))
                    return true
                }
            })
        }
        if let error = pass.failure { return (frames, error) }
        require(decoder.bufferedByteCount < longestHeader + frameLimit,
                "in-place decoder buffers \(decoder.bufferedByteCount) bytes, more than one incomplete frame")
    }
    return (frames, nil)
}

private func compare(
    _ frames: [WebSocketFrame], _ error: WebSocketProtocolError?, with want: [WebSocketFrame],
    _ wantError: WebSocketProtocolError?, path: String
) {
    require(frames == want, "\(path) decoded \(frames.count) frames, the reference \(want.count)")
    require(error == wantError, "\(path) ended with \(String(describing: error)), the reference with \(String(describing: wantError))")
    for frame in frames {
        require(frame.reservedBits == 0, "\(path) yielded reserved bits")
        require(frame.payload.count <= frameLimit, "\(path) yielded a payload over the limit")
        if frame.opcode.isControl { require(frame.fin && frame.payload.count <= 125, "\(path) yielded a bad control frame") }
    }
}

/// A decoded frame, encoded again as its sender would (masked when it came from a client), decodes to itself.
private func checkReencoding(_ frame: WebSocketFrame, role: WebSocketRole, key: WebSocketMaskingKey) {
    let wire = WebSocketFrameEncoder.encode(frame, maskingKey: role == .server ? key : nil)
    var decoder = WebSocketFrameDecoder(role: role, maxFramePayloadSize: frameLimit)
    decoder.append(wire)
    let again = Result(catching: { () throws(WebSocketProtocolError) in try decoder.nextFrame() })
    require(again == .success(frame), "re-encoded frame \(hex(wire)) decodes to \(again)")
    require(decoder.bufferedByteCount == 0, "re-encoded frame left \(decoder.bufferedByteCount) bytes")
}

// MARK: Connection

/// The connection, fed piece by piece (copying and in place), does what the reference connection does,
/// reports `closed` once and last, and answers nothing after it.
private func checkConnection(
    _ data: [UInt8], pieces: [[UInt8]], role: WebSocketRole, closeAfterPiece: Int,
    expected: (frames: [ReferenceFrameReader.ReadFrame], error: WebSocketProtocolError?)
) {
    let want = referenceActions(data, pieces: pieces, role: role, closeAfterPiece: closeAfterPiece, expected: expected)
    for inPlace in [false, true] {
        let configuration = WebSocketConnection.Configuration(
            maxFrameSize: frameLimit, maxMessageSize: messageLimit, pingInterval: nil, silenceTimeout: nil)
        let now = ContinuousClock.now
        var connection = WebSocketConnection(role: role, configuration: configuration, now: now)
        var actions: [WebSocketConnection.Action] = []
        for (index, piece) in pieces.enumerated() {
            if inPlace {
                var scratch = piece
                actions += scratch.withUnsafeMutableBytes { connection.bytesReceived($0, now: now) }
            } else {
                actions += connection.bytesReceived(piece, now: now)
            }
            if index + 1 == closeAfterPiece {
                actions += connection.close(code: ReferenceConnection.localCode, reason: ReferenceConnection.localReason, now: now)
            }
        }
        actions += connection.connectionEnded()
        let path = inPlace ? "in place" : "copying"
        require(connection.state == .closed, "\(path): connection not closed after the transport ended")
        require(connection.bytesReceived([0x81, 0x00], now: now).isEmpty, "\(path): a closed connection still acts")

        let seen = observe(actions, role: role, path: path)
        let closings = seen.filter { if case .closed = $0 { true } else { false } }
        require(closings.count == 1, "\(path): closed reported \(closings.count) times")
        if case .closed? = seen.last {} else { require(false, "\(path): closed is not the last action") }
        require(seen == want, "\(path): connection did \(seen), the reference \(want) for \(hex(data))")
    }
}

/// The reference connection's actions for the same bytes, pieces and local close.
private func referenceActions(
    _ data: [UInt8], pieces: [[UInt8]], role: WebSocketRole, closeAfterPiece: Int,
    expected: (frames: [ReferenceFrameReader.ReadFrame], error: WebSocketProtocolError?)
) -> [ReferenceConnection.Observed] {
    // Where the violation becomes decidable: the shortest prefix that shows it. The decoder sees it during
    // the piece that holds that byte, after the frames before it.
    var errorOffset = Int.max
    if expected.error != nil {
        let from = expected.frames.last?.end ?? 0
        errorOffset = (from...data.count).first { ReferenceFrameReader.read(Array(data[..<$0]), role: role, maxPayload: frameLimit).error != nil }!
    }
    var closeAt = Int.max
    if closeAfterPiece >= 1 && closeAfterPiece <= pieces.count {
        closeAt = pieces[..<closeAfterPiece].reduce(0) { $0 + $1.count }
    }
    var model = ReferenceConnection(maxMessageSize: messageLimit)
    var actions: [ReferenceConnection.Observed] = []
    var closedLocally = false
    for read in expected.frames {
        if !closedLocally && read.end > closeAt {
            actions += model.closeLocally()
            closedLocally = true
        }
        actions += model.receive(read.frame)
    }
    if let error = expected.error {
        if !closedLocally && errorOffset > closeAt {
            actions += model.closeLocally()
            closedLocally = true
        }
        actions += model.fail(error)
    }
    if !closedLocally && closeAt != Int.max { actions += model.closeLocally() }
    actions += model.transportEnded()
    return actions
}

/// The actions with each write read back as the one frame it must hold, checked as the peer would see it.
private func observe(_ actions: [WebSocketConnection.Action], role: WebSocketRole, path: String) -> [ReferenceConnection.Observed] {
    var seen: [ReferenceConnection.Observed] = []
    for action in actions {
        switch action {
        case .write(let wire):
            var peer = WebSocketFrameDecoder(role: role == .client ? .server : .client, maxFramePayloadSize: 1 << 16)
            peer.append(wire)
            let read = Result(catching: { () throws(WebSocketProtocolError) in try peer.nextFrame() })
            guard case .success(let frame?) = read, peer.bufferedByteCount == 0 else {
                require(false, "\(path): a write is not exactly one valid frame: \(hex(wire))")
                continue
            }
            switch frame.opcode {
            case .pong:
                seen.append(.pong(frame.payload))
            case .close:
                require(frame.payload.count != 1, "\(path): close frame with a one-byte payload")
                guard frame.payload.count >= 2 else {
                    seen.append(.closeFrame(nil))
                    continue
                }
                let code = WebSocketCloseCode(UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]))
                require(code.isValidOnTheWire, "\(path): sent close code \(code.rawValue)")
                require(ReferenceUTF8.isValid(Array(frame.payload[2...])), "\(path): sent a close reason that is not UTF-8")
                seen.append(.closeFrame(code.rawValue))
            default:
                require(false, "\(path): wrote an unexpected \(frame.opcode) frame")
            }
        case .deliver(let message):
            switch message {
            case .text(let text): require(text.utf8.count <= messageLimit, "\(path): delivered text over the limit")
            case .binary(let bytes): require(bytes.count <= messageLimit, "\(path): delivered binary over the limit")
            }
            seen.append(.deliver(message))
        case .closed(let info):
            seen.append(.closed(info))
        }
    }
    return seen
}

// MARK: UTF-8 and masking

/// The incremental validator agrees with the standard library, whole and fed in pieces.
private func checkUTF8Validator(_ data: [UInt8], pieces: [[UInt8]]) {
    let valid = ReferenceUTF8.isValid(data)
    require(UTF8Validator.isValid(data) == valid, "UTF8Validator.isValid disagrees on \(hex(data))")
    var validator = UTF8Validator()
    var consumed: [UInt8] = []
    for piece in pieces {
        consumed += piece
        let accepted = validator.consume(piece)
        require(accepted == ReferenceUTF8.isValidPrefix(consumed), "UTF8Validator.consume disagrees at \(consumed.count) of \(hex(data))")
        if !accepted { return }
    }
    require(validator.isAtCharacterBoundary == valid, "UTF8Validator ends on the wrong boundary for \(hex(data))")
}

/// Unmasking in pieces, each at its key phase, is the byte-by-byte XOR, and masking twice restores the bytes.
private func checkMasking(_ data: [UInt8], key: WebSocketMaskingKey, pieces: [[UInt8]]) {
    let keyBytes = key.bytes
    let want = data.enumerated().map { $0.element ^ keyBytes[$0.offset % 4] }
    var masked = data
    var start = 0
    for piece in pieces {
        WebSocketMasking.apply(key, to: &masked, range: start..<(start + piece.count), phase: start)
        start += piece.count
    }
    require(masked == want, "piecewise masking differs from the byte-wise XOR")
    WebSocketMasking.apply(key, to: &masked)
    require(masked == data, "masking twice did not restore the bytes")
}
