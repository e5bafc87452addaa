using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.RateLimiting;

public sealed class NetworkConcurrencyLimiterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ScanTriple Target(string ip, int port = 80)
    {
        var address = IPAddress.Parse(ip);
        return new ScanTriple(address.AddressFamily, AddressRange.ToKey(address), port, Transport.Tcp);
    }

    [Fact]
    public async Task AcquireAsync_SameSlash24_WaitsAtTheCap()
    {
        var limiter = new NetworkConcurrencyLimiter(2);
        var a = await limiter.AcquireAsync(Target("198.51.7.1"), Ct);
        var b = await limiter.AcquireAsync(Target("198.51.7.200"), Ct);
        var third = limiter.AcquireAsync(Target("198.51.7.77"), Ct).AsTask();
        Assert.False(third.IsCompleted);
        Assert.Equal(2, limiter.InFlight(AddressFamily.InterNetwork, Target("198.51.7.5").AddressKey));
        a.Dispose();
        var c = await third.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(2, limiter.InFlight(AddressFamily.InterNetwork, Target("198.51.7.5").AddressKey));
        b.Dispose();
        c.Dispose();
        Assert.Equal(0, limiter.ActiveNetworks);
    }

    [Fact]
    public async Task AcquireAsync_OtherSlash24_IsIndependent()
    {
        var limiter = new NetworkConcurrencyLimiter(1);
        using var a = await limiter.AcquireAsync(Target("198.51.7.1"), Ct);
        var other = limiter.AcquireAsync(Target("198.51.8.1"), Ct);
        Assert.True(other.IsCompletedSuccessfully);
        (await other).Dispose();
    }

    [Fact]
    public async Task AcquireAsync_IPv6_GroupsBySlash64()
    {
        var limiter = new NetworkConcurrencyLimiter(1);
        using var a = await limiter.AcquireAsync(Target("2001:db8:1:2::1"), Ct);
        Assert.False(limiter.AcquireAsync(Target("2001:db8:1:2:ffff::9"), Ct).IsCompleted);
        var otherNetwork = limiter.AcquireAsync(Target("2001:db8:1:3::1"), Ct);
        Assert.True(otherNetwork.IsCompletedSuccessfully);
        (await otherNetwork).Dispose();
        Assert.Equal("2001:db8:1:2::/64", limiter.NetworkOf(AddressFamily.InterNetworkV6, Target("2001:db8:1:2::1").AddressKey).ToString());
    }

    [Fact]
    public async Task AcquireAsync_Waiters_AreServedInArrivalOrder()
    {
        var limiter = new NetworkConcurrencyLimiter(1);
        var holder = await limiter.AcquireAsync(Target("203.0.113.1"), Ct);
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 5).Select(async i =>
        {
            using var lease = await limiter.AcquireAsync(Target("203.0.113.9"), Ct);
            lock (order)
            {
                order.Add(i);
            }
        }).ToList();
        holder.Dispose();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([0, 1, 2, 3, 4], order);
        Assert.Equal(0, limiter.ActiveNetworks);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWaiter_LeavesTheQueueAndTheSlotPassesOn()
    {
        var limiter = new NetworkConcurrencyLimiter(1);
        var holder = await limiter.AcquireAsync(Target("203.0.113.1"), Ct);
        using var cts = new CancellationTokenSource();
        var cancelled = limiter.AcquireAsync(Target("203.0.113.2"), cts.Token).AsTask();
        var next = limiter.AcquireAsync(Target("203.0.113.3"), Ct).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        holder.Dispose();
        using var lease = await next.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(1, limiter.InFlight(AddressFamily.InterNetwork, Target("203.0.113.3").AddressKey));
    }

    [Fact]
    public async Task AcquireAsync_ManyConcurrentWorkers_NeverExceedTheCap()
    {
        var limiter = new NetworkConcurrencyLimiter(3);
        var inFlight = new int[4];
        var peak = new int[4];
        var workers = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < 50; round++)
            {
                var net = (i + round) % 4;
                using var lease = await limiter.AcquireAsync(Target($"192.0.{net + 10}.{(i % 250) + 1}"), Ct);
                var now = Interlocked.Increment(ref inFlight[net]);
                Peak.Raise(ref peak[net], now);
                await Task.Yield();
                Interlocked.Decrement(ref inFlight[net]);
            }
        }, Ct)).ToList();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.All(peak, p => Assert.InRange(p, 1, 3));
        Assert.Equal(0, limiter.ActiveNetworks);
    }

    [Fact]
    public async Task Lease_DisposedTwice_ReleasesOnce()
    {
        var limiter = new NetworkConcurrencyLimiter(2);
        var lease = await limiter.AcquireAsync(Target("198.51.100.1"), Ct);
        using var other = await limiter.AcquireAsync(Target("198.51.100.2"), Ct);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(1, limiter.InFlight(AddressFamily.InterNetwork, Target("198.51.100.3").AddressKey));
    }
}
