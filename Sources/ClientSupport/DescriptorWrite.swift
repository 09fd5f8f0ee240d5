#if canImport(Glibc)
import Glibc
#endif

/// Writes to a descriptor with `write(2)`. Foundation's `FileHandle.write(_:)` traps when the reader went
/// away (`EPIPE`), which would end a process over a closed log pipe or an operator's `| head`.
public enum DescriptorWrite {
    /// Writes all of `bytes`, resuming after a signal or a partial write; returns false on any other
    /// error (the reader went away, the descriptor is closed), with the rest unwritten.
    @discardableResult
    public static func whole(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, base + offset, bytes.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Writes `text` whole (see `whole(_:to:)`).
    @discardableResult
    public static func text(_ text: String, to descriptor: Int32) -> Bool {
        var text = text
        return text.withUTF8 { whole(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
