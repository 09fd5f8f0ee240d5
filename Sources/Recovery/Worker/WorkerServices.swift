import ServiceLifecycle

/// The worker as services in one ordered `ServiceGroup`. A graceful shutdown stops them last to first:
/// the job consumer (no new job), the control consumer, the catalog refresh, then the hand-off of every
/// session, and the lease keeping last, so that a session handed off late never loses its lease (and
/// invites a duplicate) while it waits for its turn. The connections, probe server and session host go
/// before these in the process's group, and so are stopped after them.
enum WorkerServices {
    static func ordered(_ worker: WorkerRuntime, controlQueue: String) -> [any Service] {
        [
            LeaseKeeping(worker: worker), SessionHandOff(worker: worker), CatalogRefresh(worker: worker),
            ControlConsumer(worker: worker, queue: controlQueue), JobConsumer(worker: worker),
        ]
    }

    /// Lease renewals, heartbeats and self-fencing, until its turn of the shutdown; then the worker's
    /// record goes.
    struct LeaseKeeping: Service {
        let worker: WorkerRuntime
        func run() async throws {
            await cancelWhenGracefulShutdown { await worker.keepLeases() }
            await worker.deregister()
        }
    }

    /// Does nothing until its turn of the shutdown, then hands every session off.
    struct SessionHandOff: Service {
        let worker: WorkerRuntime
        func run() async throws {
            // Cancelled rather than shut down: the process is going at once, and the leases lapse.
            guard (try? await gracefulShutdown()) != nil else { return }
            await worker.handOffForShutdown()
        }
    }

    /// Rebuilds the held sessions' tool catalogs every check interval.
    struct CatalogRefresh: Service {
        let worker: WorkerRuntime
        func run() async throws { await cancelWhenGracefulShutdown { await worker.refreshCatalogsPeriodically() } }
    }

    /// Stops for endpoints that were disabled or deleted, from this worker's control queue.
    struct ControlConsumer: Service {
        let worker: WorkerRuntime
        let queue: String
        func run() async throws { await cancelWhenGracefulShutdown { await worker.consumeControl(queue: queue) } }
    }

    /// Jobs from the jobs queue, up to the free capacity.
    struct JobConsumer: Service {
        let worker: WorkerRuntime
        func run() async throws { await cancelWhenGracefulShutdown { await worker.consumeJobs() } }
    }
}
