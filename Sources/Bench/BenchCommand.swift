import ArgumentParser

/// `bench`: the figures of BENCHMARKS.md, one subcommand each.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of the pool's parts, each measured beside its peer in the same run.",
        subcommands: [AMQPPublishBench.self, AMQPFailoverBench.self, LeaseAcquireBench.self, TLSOpenBench.self, BridgeBench.self, CodecBench.self, MaskingBench.self, MessageCodingBench.self, PipelineBench.self, PostgresBench.self, ReconcileBench.self, RedisBench.self, SessionBench.self, UpstreamMemoryBench.self])
}
