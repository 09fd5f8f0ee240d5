/// Fuzzes the decoding of every message and Redis value the pool reads that another process wrote: jobs,
/// results and control messages from the broker (a non-JSON message in a queue is dead-lettered, never a
/// crash), worker records, parks, and the original platform's connection states. Whatever decodes must
/// write out in a form that decodes again and writes the same; whatever is refused is refused with an
/// error of one line that quotes at most an excerpt of the input.
///
/// The input is the message's bytes.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPoolMessages(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(UnsafeBufferPointer(start: bytes, count: count))
    check("job", data, decode: { (d) throws(MessageDecodingError) in try RecoveryJob.decode(d) }, encode: { $0.encoded() })
    check("result", data, decode: { (d) throws(MessageDecodingError) in try JobResult.decode(d) }, encode: { $0.encoded() })
    check("control", data, decode: { (d) throws(MessageDecodingError) in try ControlMessage.decode(d) }, encode: { $0.encoded() })
    check("worker record", data, decode: { (d) throws(MessageDecodingError) in try WorkerRecord.decode(d) }, encode: { Data($0.encoded().utf8) })
    check("park", data, decode: { (d) throws(MessageDecodingError) in try ParkedEndpoint.decode(d) }, encode: { Data($0.encoded().utf8) })
    check("connection state", data, decode: { (d) throws(MessageDecodingError) in try ConnectionState.decode(d) }, encode: { Data($0.encoded().utf8) })
    return 0
}

/// The longest error text a refused message may give: the decoders quote excerpts, never the whole input.
private let longestError = 600

private func check<T>(
    _ name: String, _ data: Data, decode: (Data) throws(MessageDecodingError) -> T, encode: (T) -> Data
) {
    switch Result(catching: { () throws(MessageDecodingError) in try decode(data) }) {
    case .success(let value):
        let written = encode(value)
        let again = Result(catching: { () throws(MessageDecodingError) in try decode(written) })
        guard case .success(let reread) = again else {
            return require(false, "a \(name) written as \(String(decoding: written, as: UTF8.self)) does not decode: \(again)")
        }
        require(encode(reread) == written, "a \(name) writes differently after a round trip: \(String(decoding: written, as: UTF8.self))")
    case .failure(let error):
        let text = "\(error)"
        require(!text.contains("\n") && !text.contains("\r"), "a refused \(name) gives an error of several lines: \(text)")
        require(text.utf8.count <= longestError, "a refused \(name) gives an error of \(text.utf8.count) bytes")
    }
}
