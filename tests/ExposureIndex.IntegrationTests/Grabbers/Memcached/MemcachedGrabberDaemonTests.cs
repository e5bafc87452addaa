using ExposureIndex.Grabbers.Memcached;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Memcached;

/// <summary>The memcached grabber against Debian's memcached.</summary>
public sealed class MemcachedGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Memcached_ProductExactVersionAndStats()
    {
        await using var memcached = await MemcachedDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new MemcachedGrabber(), memcached);

        Assert.Equal(memcached.Product, record.Product);
        Assert.Equal(memcached.Version, record.Version);
        Assert.Contains("database", record.Tags);
        Assert.Equal(memcached.Version, record.Memcached.Version);
        Assert.Equal((uint)memcached.Pid, record.Memcached.Pid);
        // The fixture starts memcached with -m 16 and -t 2.
        Assert.Equal(16UL * 1024 * 1024, record.Memcached.LimitMaxbytes);
        Assert.Equal(2U, record.Memcached.Threads);
        Assert.True(record.Memcached.CurrConnections >= 1);
    }
}
