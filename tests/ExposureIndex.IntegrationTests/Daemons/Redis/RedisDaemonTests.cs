using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Redis;

public sealed class RedisDaemonTests
{
    private static readonly TimeSpan Timeout = DaemonAssert.NetTimeout;

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Ping_AnswersPong()
    {
        await using var redis = await RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var answer = await WireProbe.ExchangeTextAsync(redis.EndPoint, "PING\r\n", "\r\n", Timeout, DaemonAssert.Ct);

        Assert.Equal("+PONG\r\n", answer);
        await DaemonAssert.BindsOnlyItsAddressAsync(redis);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_InfoServer_ReportsTheBinarysVersion()
    {
        await using var redis = await RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var info = await WireProbe.ExchangeTextAsync(redis.EndPoint, "INFO server\r\n", "\r\n\r\n", Timeout, DaemonAssert.Ct);

        Assert.Equal("Redis", redis.Product);
        Assert.Contains($"redis_version:{redis.Version}\r\n", info, StringComparison.Ordinal);
        Assert.StartsWith(redis.Version, Dpkg.UpstreamVersion(redis.PackageVersion), StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var redis = await RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(redis);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_ThreeAtOnce_EachAnswersOnItsOwnAddress()
    {
        var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct)));
        try
        {
            Assert.Equal(3, started.Select(r => r.Address).Distinct().Count());
            for (var i = 0; i < started.Length; i++)
            {
                // Each instance holds its own data: a key set on one is absent on the others.
                var set = await WireProbe.ExchangeTextAsync(started[i].EndPoint, $"SET owner {i}\r\nGET owner\r\n", $"{i}\r\n", Timeout, DaemonAssert.Ct);
                Assert.Equal($"+OK\r\n$1\r\n{i}\r\n", set);
            }

            foreach (var (redis, i) in started.Select((r, i) => (r, i)))
            {
                var get = await WireProbe.ExchangeTextAsync(redis.EndPoint, "GET owner\r\n", $"{i}\r\n", Timeout, DaemonAssert.Ct);
                Assert.Equal($"$1\r\n{i}\r\n", get);
            }
        }
        finally
        {
            foreach (var redis in started)
            {
                await DaemonAssert.StopsCleanlyAsync(redis);
            }
        }
    }
}
