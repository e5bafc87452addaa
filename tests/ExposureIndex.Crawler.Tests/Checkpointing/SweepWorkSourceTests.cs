using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Tests.RateLimiting;

namespace ExposureIndex.Crawler.Tests.Checkpointing;

public sealed class SweepWorkSourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TakeAsync_Unthrottled_HandsOutTheShardOrderThenNull()
    {
        var plan = CheckpointTestPlans.Plan("8.8.8.0/30", "22,80");
        var source = new SweepWorkSource(new SweepCursor(plan.Order), rate: null, networks: null);
        var taken = new List<string>();
        while (await source.TakeAsync(Ct) is { } work)
        {
            taken.Add(work.Target.ToString());
            source.Complete(work);
        }

        Assert.Equal(plan.Order.Enumerate().Select(t => t.ToString()), taken);
        Assert.True(source.Cursor.IsFinished);
    }

    [Fact]
    public async Task TakeAsync_RateLimited_WaitsOnTheClock()
    {
        var time = new ManualTimeProvider();
        var plan = CheckpointTestPlans.Plan("8.8.8.0/30", "22");
        var source = new SweepWorkSource(new SweepCursor(plan.Order), new TokenBucket(10, burst: 1, time), networks: null);
        Assert.NotNull(await source.TakeAsync(Ct));
        var second = source.TakeAsync(Ct).AsTask();
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.NotNull(await second.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task TakeAsync_StoppedWhileWaitingForAPermit_TakesNothing()
    {
        var time = new ManualTimeProvider();
        var plan = CheckpointTestPlans.Plan("8.8.8.0/30", "22");
        var source = new SweepWorkSource(new SweepCursor(plan.Order), new TokenBucket(1, burst: 1, time), networks: null);
        var first = await source.TakeAsync(Ct);
        using var stop = new CancellationTokenSource();
        var waiting = source.TakeAsync(stop.Token).AsTask();
        await stop.CancelAsync();
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(1UL, source.Cursor.Taken);
        source.Complete(first!);
        Assert.Equal(1UL, source.Cursor.LowWater);
    }

    [Fact]
    public async Task TakeAsync_NetworkFull_WaitsForTheSlotEvenWhenStopping()
    {
        var plan = CheckpointTestPlans.Plan("8.8.8.0/31", "22");
        var source = new SweepWorkSource(new SweepCursor(plan.Order), rate: null, new NetworkConcurrencyLimiter(1));
        var first = await source.TakeAsync(Ct);
        using var stop = new CancellationTokenSource();
        var second = source.TakeAsync(stop.Token).AsTask();
        Assert.False(second.IsCompleted);
        // The position is already taken: stopping must not abandon it, so the wait goes on until the slot frees.
        await stop.CancelAsync();
        Assert.False(second.IsCompleted);
        first!.ReleaseNetwork();
        var work = await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.NotNull(work);
        source.Complete(first);
        source.Complete(work!);
        Assert.True(source.Cursor.IsFinished);
        Assert.Equal(0, source.Networks!.ActiveNetworks);
    }
}
