using ExposureIndex.Crawler.RateLimiting;

namespace ExposureIndex.Crawler.Tests.RateLimiting;

/// <summary>The rate limiter on a manual clock: every figure is exact, nothing depends on the machine's speed.</summary>
public sealed class TokenBucketTests
{
    /// <summary>A saturating caller: asks for a permit, waits exactly as long as told, repeats. Returns grant times (ticks).</summary>
    private static List<long> Saturate(TokenBucket bucket, ManualTimeProvider time, TimeSpan duration, int permitsPerCall = 1)
    {
        var grants = new List<long>();
        var end = time.GetTimestamp() + duration.Ticks;
        // Bounded: time advances by at least a tick per pass.
        while (time.GetTimestamp() < end)
        {
            var wait = bucket.Reserve(permitsPerCall);
            if (wait > TimeSpan.Zero)
            {
                time.Advance(wait);
            }

            if (time.GetTimestamp() >= end)
            {
                break;
            }

            for (var i = 0; i < permitsPerCall; i++)
            {
                grants.Add(time.GetTimestamp());
            }

            if (wait == TimeSpan.Zero && grants.Count % 50 == 0)
            {
                // Callers are never infinitely fast: let a tick pass now and then.
                time.Advance(TimeSpan.FromTicks(1));
            }
        }

        return grants;
    }

    /// <summary>The most grants in any window of <paramref name="window"/> (two-pointer sweep).</summary>
    private static (int Max, int Min) WindowCounts(List<long> grants, TimeSpan window, long start, long end)
    {
        var max = 0;
        var min = int.MaxValue;
        var j = 0;
        for (var i = 0; i < grants.Count; i++)
        {
            while (grants[i] - grants[j] >= window.Ticks)
            {
                j++;
            }

            max = Math.Max(max, i - j + 1);
        }

        // Minimum over windows that start at each whole 100 ms step and lie inside the saturated run.
        for (var s = start; s + window.Ticks <= end; s += TimeSpan.TicksPerMillisecond * 100)
        {
            var count = grants.Count(g => g >= s && g < s + window.Ticks);
            min = Math.Min(min, count);
        }

        return (max, min);
    }

    [Theory]
    [InlineData(100.0)]
    [InlineData(1000.0)]
    [InlineData(12_345.0)]
    [InlineData(250_000.0)]
    public void Reserve_Saturated_HonoursRateWithinOnePercentOverEverySecond(double rate)
    {
        var time = new ManualTimeProvider();
        var bucket = TokenBucket.PerSecond(rate, time);
        // Start full: a quiet bucket may burst, which the window bound allows for.
        var start = time.GetTimestamp();
        var grants = Saturate(bucket, time, TimeSpan.FromSeconds(5));
        var (max, min) = WindowCounts(grants, TimeSpan.FromSeconds(1), start, time.GetTimestamp());
        Assert.True(max <= rate + bucket.Burst, $"{max} grants in one second at rate {rate} (burst {bucket.Burst})");
        Assert.True(max <= rate * 1.05, $"{max} grants in one second is more than 5% over {rate}");
        Assert.True(min >= rate * 0.99 - 1, $"only {min} grants in some second at rate {rate}");
        Assert.InRange(grants.Count, rate * 5 * 0.99, (rate * 5) + bucket.Burst);
    }

    [Fact]
    public void Reserve_AfterQuiet_BurstIsBounded()
    {
        var time = new ManualTimeProvider();
        var bucket = new TokenBucket(1000, burst: 10, time);
        time.Advance(TimeSpan.FromMinutes(5));
        var immediate = 0;
        while (bucket.Reserve() == TimeSpan.Zero)
        {
            immediate++;
            Assert.True(immediate <= 100, "the burst never ends");
        }

        Assert.Equal(10, immediate);
    }

    [Fact]
    public void Reserve_Batches_SameRateAsSingles()
    {
        var time = new ManualTimeProvider();
        var bucket = TokenBucket.PerSecond(100_000, time);
        var grants = Saturate(bucket, time, TimeSpan.FromSeconds(3), permitsPerCall: 64);
        Assert.InRange(grants.Count, 300_000 * 0.99, 300_000 + bucket.Burst + 64);
    }

    [Fact]
    public void TryAcquire_Empty_FailsWithoutTaking()
    {
        var time = new ManualTimeProvider();
        var bucket = new TokenBucket(10, burst: 2, time);
        Assert.True(bucket.TryAcquire());
        Assert.True(bucket.TryAcquire());
        Assert.False(bucket.TryAcquire());
        Assert.Equal(2, bucket.Granted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(bucket.TryAcquire());
        Assert.False(bucket.TryAcquire());
    }

    [Fact]
    public async Task AcquireAsync_ManyWaiters_CompleteOnlyAsTimeAdvances()
    {
        var time = new ManualTimeProvider();
        var bucket = new TokenBucket(10, burst: 1, time);
        var waiters = Enumerable.Range(0, 20).Select(_ => bucket.AcquireAsync(1, TestContext.Current.CancellationToken).AsTask()).ToList();
        Assert.Equal(1, waiters.Count(w => w.IsCompleted));
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(6, waiters.Count(w => w.IsCompleted));
        time.Advance(TimeSpan.FromMilliseconds(1400));
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_Throws()
    {
        var time = new ManualTimeProvider();
        var bucket = new TokenBucket(1, burst: 1, time);
        await bucket.AcquireAsync(1, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource();
        var waiting = bucket.AcquireAsync(1, cts.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Constructor_BadRate_Throws(double rate)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(rate, 1, new ManualTimeProvider()));

    [Fact]
    public void DefaultBurst_IsOnePercentOfASecond()
    {
        Assert.Equal(1, TokenBucket.DefaultBurst(10));
        Assert.Equal(10, TokenBucket.DefaultBurst(1000));
        Assert.Equal(1000, TokenBucket.DefaultBurst(100_000));
    }
}
