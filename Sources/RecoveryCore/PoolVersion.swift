/// The pool's release, shown by `--version`, kept in each worker's record and on the console's workers
/// page, so an operator sees which workers a rolling upgrade has reached.
public enum PoolVersion {
    public static let current = "1.4.0"
}
