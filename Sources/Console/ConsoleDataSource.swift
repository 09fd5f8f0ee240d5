import Foundation
import Recovery
import RecoveryCore

/// What the console reads and changes: the same readers and operations as the CLI's `status`,
/// `workers`, `queues` and `dead` commands. A protocol so the console's routing, sign-in and rendering
/// are tested without servers.
public protocol ConsoleDataSource: Sendable {
    /// `scheduler status`: every endpoint with its Redis state, and the cluster's capacity.
    func endpoints() async throws -> EndpointStatusReport
    /// The latest recorded result of each of `endpointIds` that has one.
    func lastResults(endpointIds: [EndpointID]) async throws -> [EndpointID: RecordedResult]
    /// One endpoint: its row, recent results and bound tools; nil when the row is gone.
    func endpoint(id: EndpointID) async throws -> EndpointDetail?
    /// `scheduler workers`.
    func workers() async throws -> WorkerListing
    /// `scheduler queues`, without reading the dead queue's letters.
    func queues() async throws -> QueueReport
    /// `scheduler dead list`.
    func deadLetters() async throws -> [DeadLetter]
    /// Results received per minute over the last hour, oldest first.
    func outcomesPerMinute() async throws -> [MinuteOutcomes]
    /// The leader's latest reconcile cycle.
    func lastCycle() async throws -> CycleSummary?
    /// `scheduler dead retry`.
    func retry(_ selection: DeadLetterSelection) async throws -> DeadLetterRetryReport
    /// `scheduler dead purge`.
    func purge(_ selection: DeadLetterSelection) async throws -> DeadLetterPurgeReport
}

/// One endpoint's page: what `status` shows of it, its recent results and the tools bound to it. The
/// endpoint's address holds its token and is never part of it.
public struct EndpointDetail: Sendable, Equatable {
    public var status: EndpointStatus
    public var userId: String
    public var updatedAt: Date?
    public var results: [RecordedResult]
    public var tools: [BoundTool]

    public init(status: EndpointStatus, userId: String, updatedAt: Date?, results: [RecordedResult], tools: [BoundTool]) {
        self.status = status
        self.userId = userId
        self.updatedAt = updatedAt
        self.results = results
        self.tools = tools
    }
}

/// A tool bound to an endpoint, by service.
public struct BoundTool: Sendable, Equatable {
    public var service: String
    public var name: String
    public var description: String?

    public init(service: String, name: String, description: String?) {
        self.service = service
        self.name = name
        self.description = description
    }
}
