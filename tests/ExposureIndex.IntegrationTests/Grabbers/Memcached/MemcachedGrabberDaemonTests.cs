using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Memcached;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Memcached;

/// <summary>The memcached grabber against Debian's memcached.</summary>
public sealed class MemcachedGrabberDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Memcached_ProductExactVersionAndStats()
    {
        await using var memcached = await MemcachedDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        var context = new GrabContext
        {
            Target = new GrabTarget(memcached.Address, memcached.Port, Transport.Tcp),
            Limits = new GrabLimits(),
            Network = SocketGrabNetwork.Instance,
        };

        var result = await new MemcachedGrabber().GrabAsync(context, DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{memcached.LogTail()}");
        var record = result.Fragment;
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
