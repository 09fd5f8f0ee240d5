extension Duration {
    /// The duration in milliseconds, for printed figures.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// The duration in seconds, for printed figures.
    var seconds: Double { milliseconds / 1000 }
}
