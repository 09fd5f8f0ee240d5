import RecoveryCore
import RedisClient

/// The queued-jobs index in Redis (`RedisKeys.queuedJobs`, `RedisKeys.jobsReceivedThrough`), each
/// operation one script.
public struct RedisJobArrivals: JobArrivals {
    let redis: RedisClient

    public func received(_ job: RecoveryJob) async throws {
        try await redis.evaluate(
            PoolScripts.recordJobReceived, keys: [RedisKeys.queuedJobs, RedisKeys.jobsReceivedThrough],
            arguments: [QueuedJob(endpointId: job.endpointId, jobId: job.jobId).member])
    }

    public func unreceived(slack: Duration, limit: Int, expiry: Duration) async throws -> [QueuedJob] {
        let reply = try await redis.evaluate(
            PoolScripts.unreceivedJobs, keys: [RedisKeys.queuedJobs, RedisKeys.jobsReceivedThrough],
            arguments: [RedisValues.milliseconds(slack), max(1, limit), RedisValues.milliseconds(expiry)])
        guard let items = reply.array else { throw RedisStateError(operation: "read unreceived jobs", unexpected: reply) }
        var jobs: [QueuedJob] = []
        var index = 0
        while index + 1 < items.count {
            if let member = items[index].string, let entered = items[index + 1].string.flatMap(Double.init),
               let job = QueuedJob(member: member, enteredAt: Int64(entered)) {
                jobs.append(job)
            }
            index += 2
        }
        return jobs
    }

    public func forget(_ jobs: [QueuedJob]) async throws {
        guard !jobs.isEmpty else { return }
        var arguments: [any RedisArgumentConvertible] = []
        arguments.reserveCapacity(jobs.count * 2)
        for job in jobs { arguments += [job.member, job.jobId] }
        try await redis.evaluate(
            PoolScripts.forgetUnreceivedJobs, keys: [RedisKeys.queuedJobs] + jobs.map { RedisKeys.pending($0.endpointId) }, arguments: arguments)
    }
}
