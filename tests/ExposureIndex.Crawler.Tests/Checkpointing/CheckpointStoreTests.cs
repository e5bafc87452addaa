using System.Text;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Checkpointing;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DateTimeOffset Now = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact]
    public void SaveThenLoad_RoundTripsEveryField()
    {
        var plan = CheckpointTestPlans.Plan(seed: ulong.MaxValue, shard: new ShardSpec(2, 3));
        var store = CheckpointStore.InDirectory(_dir, plan.Shard);
        var saved = SweepCheckpoint.For(plan, 123, Now, open: 7, records: 9, scanId: "scan-1");
        store.Save(saved);
        Assert.True(store.TryLoad(out var loaded, out var error), error);
        Assert.Equal(saved, loaded);
        Assert.EndsWith("sweep-2-of-3.checkpoint.json", store.Path, StringComparison.Ordinal);
        // Seeds are strings in the file: no JSON reader can round them through a double.
        Assert.Contains("\"seed\": \"18446744073709551615\"", File.ReadAllText(store.Path), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void Save_Twice_ReplacesAtomically()
    {
        var plan = CheckpointTestPlans.Plan();
        var store = CheckpointStore.InDirectory(_dir, plan.Shard);
        store.Save(SweepCheckpoint.For(plan, 10, Now));
        store.Save(SweepCheckpoint.For(plan, 20, Now));
        Assert.Equal(20UL, store.ResumePosition(plan, out _));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void ResumePosition_NoFile_StartsAtZero()
    {
        var plan = CheckpointTestPlans.Plan();
        Assert.Equal(0UL, CheckpointStore.InDirectory(_dir, plan.Shard).ResumePosition(plan, out var checkpoint));
        Assert.Null(checkpoint);
    }

    [Theory]
    [InlineData("seed", "seed 18")]
    [InlineData("shard", "shard 1/2")]
    [InlineData("targets", "plan hash differs")]
    [InlineData("ports", "plan hash differs")]
    public void ResumePosition_ChangedPlan_Refuses(string change, string expected)
    {
        var original = CheckpointTestPlans.Plan(shard: new ShardSpec(0, 2), seed: 17);
        var path = Path.Combine(_dir, "cp.json");
        new CheckpointStore(path).Save(SweepCheckpoint.For(original, 50, Now));
        var changed = change switch
        {
            "seed" => CheckpointTestPlans.Plan(shard: new ShardSpec(0, 2), seed: 18),
            "shard" => CheckpointTestPlans.Plan(shard: new ShardSpec(1, 2), seed: 17),
            "targets" => CheckpointTestPlans.Plan("8.8.0.0/23", shard: new ShardSpec(0, 2), seed: 17),
            _ => CheckpointTestPlans.Plan(ports: "22,80", shard: new ShardSpec(0, 2), seed: 17),
        };
        var e = Assert.Throws<CheckpointMismatchException>(() => new CheckpointStore(path).ResumePosition(changed, out _));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("refusing to resume", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"format\":\"other/9\"}")]
    [InlineData("{\"format\":\"exposure-sweep-checkpoint/1\",\"plan_hash\":\"x\",\"seed\":\"1\",\"shard\":\"0/1\",\"position\":\"-5\",\"count\":\"10\"}")]
    [InlineData("{\"format\":\"exposure-sweep-checkpoint/1\",\"plan_hash\":\"x\",\"seed\":\"1\",\"shard\":\"0/1\",\"position\":\"11\",\"count\":\"10\"}")]
    [InlineData("{\"format\":\"exposure-sweep-checkpoint/1\",\"plan_hash\":\"x\",\"seed\":\"1\",\"shard\":\"5/1\",\"position\":\"1\",\"count\":\"10\"}")]
    public void ResumePosition_Unreadable_RefusesNamingTheFile(string contents)
    {
        var path = Path.Combine(_dir, "cp.json");
        File.WriteAllText(path, contents, Encoding.UTF8);
        var e = Assert.Throws<CheckpointMismatchException>(() => new CheckpointStore(path).ResumePosition(CheckpointTestPlans.Plan(), out _));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointWriter_SavesLowWaterOnlyAfterTheBarrier()
    {
        var plan = CheckpointTestPlans.Plan();
        var cursor = new SweepCursor(plan.Order);
        var store = new CheckpointStore(Path.Combine(_dir, "cp.json"));
        var barrierCalls = 0;
        var writer = new CheckpointWriter(store, plan, cursor, token =>
        {
            barrierCalls++;
            // The file must not move while the barrier is pending.
            Assert.False(File.Exists(store.Path) && store.ResumePosition(plan, out _) > 3);
            return ValueTask.CompletedTask;
        }, () => (2, 5), TimeProvider.System);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(cursor.TryTake(out _, out _));
        }

        cursor.Complete(0);
        cursor.Complete(1);
        cursor.Complete(2);
        cursor.Complete(4);
        var saved = await writer.SaveAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3UL, saved.Position);
        Assert.Equal((2L, 5L), (saved.Open, saved.Records));
        Assert.Equal(1, barrierCalls);
        Assert.Equal(3UL, store.ResumePosition(plan, out _));
    }
}
