/// Runs concurrent calls of one kind as batches: a call made while a batch is running waits and goes with
/// the next, so a worker opening hundreds of endpoints at once sends a few queries instead of hundreds
/// (one Postgres connection runs one query at a time anyway), and a lone call still goes at once.
actor CallBatcher<Request: Sendable, Answer: Sendable> {
    /// Answers every request of a batch, in order; a throw fails the whole batch.
    typealias Run = @Sendable ([Request]) async throws -> [Answer]

    private let run: Run
    private let maximumBatch: Int
    private var waiting: [(request: Request, continuation: CheckedContinuation<Answer, any Error>)] = []
    private var draining = false

    init(maximumBatch: Int = 500, run: @escaping Run) {
        self.maximumBatch = max(1, maximumBatch)
        self.run = run
    }

    func call(_ request: Request) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((request, continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(maximumBatch))
            waiting.removeFirst(batch.count)
            do {
                let answers = try await run(batch.map(\.request))
                precondition(answers.count == batch.count, "a batch answers each of its requests")
                for (entry, answer) in zip(batch, answers) { entry.continuation.resume(returning: answer) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        draining = false
    }
}
