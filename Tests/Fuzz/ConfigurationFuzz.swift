/// Fuzzes the configuration a user writes: a config file's JSON and `--set Key=Value` overrides go through
/// the loader, which either accepts them or gives one error of one line naming the key, with no password
/// of a connection URL in it.
///
/// The input: the first line is the config file (empty: none); each further line is one override.
import Foundation

/// A password the inputs may carry in URLs; no error may show it.
private let planted = "pw-S3cret"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let file = lines.isEmpty ? "" : lines.removeFirst()
    let environment = [
        "DATABASE_URL": "postgres://pool:\(planted)@127.0.0.1:5432/x", "REDIS_URL": "redis://:\(planted)@127.0.0.1:6379/0",
        "AMQP_URL": "amqp://pool:\(planted)@127.0.0.1:5672/%2f",
    ]
    // An input that spells the password itself may see it quoted back as the value it gave.
    guard !text.contains(planted) else { return 0 }
    do {
        let configuration = try ConfigurationLoader.load(fileContents: file.isEmpty ? nil : file, environment: environment, overrides: lines)
        let printed = ConfigurationPrinter.text(configuration)
        require(!printed.contains(planted), "the printed configuration shows a password")
    } catch {
        let description = "\(error)"
        require(!description.contains("\n"), "a configuration error of several lines: \(description)")
        require(!description.contains(planted), "a configuration error shows a password: \(description)")
    }
    return 0
}
