extension Result {
    /// The error, nil on success: lets a check compare the error of a typed-throwing call in one expression.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
