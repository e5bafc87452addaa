using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Checkpointing;

public sealed class SweepCursorTests
{
    [Fact]
    public void TryTake_HandsOutTheShardOrderOnce()
    {
        var plan = CheckpointTestPlans.Plan(ports: "22");
        var cursor = new SweepCursor(plan.Order);
        var taken = new List<ScanTriple>();
        while (cursor.TryTake(out var position, out var triple))
        {
            Assert.Equal((ulong)taken.Count, position);
            taken.Add(triple);
        }

        Assert.Equal(plan.Order.Enumerate(), taken);
        Assert.False(cursor.TryTake(out _, out _));
        Assert.Equal(plan.Order.Count, cursor.Taken);
    }

    [Fact]
    public void Complete_OutOfOrder_LowWaterIsTheFirstUnfinished()
    {
        var cursor = new SweepCursor(CheckpointTestPlans.Plan().Order);
        for (var i = 0; i < 6; i++)
        {
            Assert.True(cursor.TryTake(out _, out _));
        }

        cursor.Complete(1);
        cursor.Complete(2);
        Assert.Equal(0UL, cursor.LowWater);
        cursor.Complete(0);
        Assert.Equal(3UL, cursor.LowWater);
        cursor.Complete(5);
        Assert.Equal(3UL, cursor.LowWater);
        cursor.Complete(4);
        cursor.Complete(3);
        Assert.Equal(6UL, cursor.LowWater);
        Assert.Equal(6, cursor.MaxOutstanding);
    }

    [Fact]
    public void Complete_Twice_OrNotTaken_Throws()
    {
        var cursor = new SweepCursor(CheckpointTestPlans.Plan().Order);
        Assert.True(cursor.TryTake(out _, out _));
        Assert.True(cursor.TryTake(out _, out _));
        cursor.Complete(1);
        Assert.Throws<InvalidOperationException>(() => cursor.Complete(1));
        Assert.Throws<InvalidOperationException>(() => cursor.Complete(7));
        cursor.Complete(0);
        Assert.Throws<InvalidOperationException>(() => cursor.Complete(0));
    }

    [Fact]
    public void Start_Resumed_BeginsThereAndLowWaterStartsThere()
    {
        var plan = CheckpointTestPlans.Plan();
        var cursor = new SweepCursor(plan.Order, start: 100);
        Assert.Equal(100UL, cursor.LowWater);
        Assert.True(cursor.TryTake(out var position, out var triple));
        Assert.Equal(100UL, position);
        Assert.Equal(plan.Order[100], triple);
    }

    [Fact]
    public async Task TryTakeAndComplete_ManyThreads_EveryPositionOnceAndLowWaterReachesTheEnd()
    {
        var plan = CheckpointTestPlans.Plan(ports: "1-100");
        var cursor = new SweepCursor(plan.Order);
        var seen = new int[plan.Order.Count];
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            while (cursor.TryTake(out var position, out _))
            {
                Interlocked.Increment(ref seen[position]);
                cursor.Complete(position);
            }
        }, TestContext.Current.CancellationToken)).ToList();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.True(cursor.IsFinished);
        Assert.Equal((long)plan.Order.Count, cursor.Completed);
    }
}
