using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Memcached;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Memcached;

public sealed class MemcachedGrabberTests
{
    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new MemcachedGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessStats_ProtocolError()
    {
        (await HostilePeers.EndlessLinesAsync(new MemcachedGrabber(), "STAT pid 1\r\n", "STAT again 1\r\n")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        (await HostilePeers.EndlessLineAsync(new MemcachedGrabber(), "STAT ")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new MemcachedGrabber())).Result.Outcome);
    }
}
