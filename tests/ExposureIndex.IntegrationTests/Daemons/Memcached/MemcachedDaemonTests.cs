using System.Text;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Memcached;

public sealed class MemcachedDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_VersionCommand_ReportsTheInstalledVersion()
    {
        await using var memcached = await MemcachedDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var answer = await WireProbe.ExchangeTextAsync(memcached.EndPoint, "version\r\n", "\r\n", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        Assert.Equal($"VERSION {memcached.Version}\r\n", answer);
        Assert.Equal("Memcached", memcached.Product);
        Assert.Null(memcached.UdpEndPoint);
        await DaemonAssert.BindsOnlyItsAddressAsync(memcached);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_WithUdp_AnswersVersionOverUdp()
    {
        await using var memcached = await MemcachedDaemon.StartAsync(udp: true, cancellationToken: DaemonAssert.Ct);

        var answer = await WireProbe.UdpExchangeAsync(memcached.UdpEndPoint!, MemcachedDaemon.UdpRequest(0x1234, "version\r\n"), DaemonAssert.NetTimeout, DaemonAssert.Ct);

        // The reply repeats the request id and carries the same text as over TCP.
        Assert.True(answer.Length > 8);
        Assert.Equal(0x12, answer[0]);
        Assert.Equal(0x34, answer[1]);
        Assert.Equal($"VERSION {memcached.Version}\r\n", Encoding.ASCII.GetString(answer, 8, answer.Length - 8));
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var memcached = await MemcachedDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(memcached);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_KeepSeparateData()
    {
        await using var first = await MemcachedDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var second = await MemcachedDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var stored = await WireProbe.ExchangeTextAsync(first.EndPoint, "set k 0 0 1\r\nx\r\n", "\r\n", DaemonAssert.NetTimeout, DaemonAssert.Ct);
        var missing = await WireProbe.ExchangeTextAsync(second.EndPoint, "get k\r\n", "END\r\n", DaemonAssert.NetTimeout, DaemonAssert.Ct);

        Assert.Equal("STORED\r\n", stored);
        Assert.Equal("END\r\n", missing);
    }
}
