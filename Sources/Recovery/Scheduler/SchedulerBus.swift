import AMQPClient
import RecoveryCore

/// What the reconciler publishes: new jobs, in one confirmed batch, and stops to the workers holding
/// sessions of disabled endpoints. `JobBus` over RabbitMQ; a recording one in the server-free tests.
public protocol SchedulerBus: Sendable {
    /// The outcome of each job's publish, in order.
    func publish(jobs: [RecoveryJob]) async throws -> [PublishOutcome]
    /// False when no worker of that id is listening.
    func send(control: ControlMessage) async throws -> Bool
}

extension JobBus: SchedulerBus {}

/// Whether every job queue is empty with nothing unacknowledged (so a pending marker naming a job is
/// lost): `JobQueueIdleness` asks RabbitMQ.
public protocol JobQueueWatch: Sendable {
    func isIdle() async -> Bool
}

extension JobQueueIdleness: JobQueueWatch {}
