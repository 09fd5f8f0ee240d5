/// Something in the tables that kept a binding or tool out of a catalog, or a choice the catalog made.
/// Meant for a log line; never contains a secret.
public enum CatalogIssue: Sendable, Hashable, CustomStringConvertible {
    case malformedSelectedToolNames(bindingId: String, reason: String)
    case missingServiceConfig(bindingId: String, serviceConfigId: String)
    case unusableServiceConfig(bindingId: String, serviceConfigId: String, reason: String)
    /// The binding names another user's private service (the original platform refuses such a binding too).
    case privateServiceOfAnotherUser(bindingId: String, serviceConfigId: String)
    case selectedToolNotFound(bindingId: String, toolName: String)
    case malformedInputSchema(toolId: String, toolName: String, reason: String)
    /// Two bindings (or two rows of one service) offer the same name; the earliest wins.
    case duplicateToolName(toolName: String, keptBindingId: String, droppedBindingId: String)

    public var description: String {
        switch self {
        case .malformedSelectedToolNames(let bindingId, let reason):
            return "binding \(bindingId) skipped: SelectedToolNames \(reason)"
        case .missingServiceConfig(let bindingId, let configId):
            return "binding \(bindingId) skipped: service config \(configId) does not exist"
        case .unusableServiceConfig(let bindingId, let configId, let reason):
            return "binding \(bindingId) skipped: service config \(configId) \(reason)"
        case .privateServiceOfAnotherUser(let bindingId, let configId):
            return "binding \(bindingId) skipped: service config \(configId) is private to another user"
        case .selectedToolNotFound(let bindingId, let toolName):
            return "binding \(bindingId) selects tool '\(toolName)' that its service does not have"
        case .malformedInputSchema(let toolId, let toolName, let reason):
            return "tool '\(toolName)' (\(toolId)) skipped: InputSchema \(reason)"
        case .duplicateToolName(let toolName, let kept, let dropped):
            return "tool '\(toolName)' is offered by bindings \(kept) and \(dropped); kept \(kept)"
        }
    }
}
