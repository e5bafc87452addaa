using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Checkpointing;

internal static class CheckpointTestPlans
{
    public static SweepPlan Plan(string targets = "8.8.0.0/24", string ports = "22,80,443", ulong seed = 17, ShardSpec? shard = null, bool allowLoopback = false)
        => SweepPlan.Create(new SweepRequest { Targets = [targets], Ports = ports, Seed = seed, Shard = shard ?? ShardSpec.Single, AllowLoopback = allowLoopback });
}
