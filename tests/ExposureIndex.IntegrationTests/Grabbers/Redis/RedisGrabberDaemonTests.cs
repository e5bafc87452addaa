using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Redis;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Redis;

/// <summary>The Redis grabber against Debian's redis-server, open and password-protected.</summary>
public sealed class RedisGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_OpenRedis_ProductExactVersionAndInfo()
    {
        await using var redis = await RedisDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new RedisGrabber().GrabAsync(Context(redis.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{redis.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(redis.Product, record.Product);
        Assert.Equal(redis.Version, record.Version);
        Assert.Contains("database", record.Tags);
        Assert.False(record.Redis.AuthRequired);
        Assert.Equal(redis.Version, record.Redis.Server["redis_version"]);
        Assert.Equal("standalone", record.Redis.Server["redis_mode"]);
        Assert.Equal(redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), record.Redis.Server["tcp_port"]);
        Assert.Equal(redis.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), record.Redis.Server["process_id"]);
        Assert.StartsWith("Linux", record.Os, StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_RequirePass_AuthRequiredAndNoAuthSent()
    {
        await using var redis = await RedisPasswordDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new RedisGrabber().GrabAsync(Context(redis.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{redis.LogTail()}");
        Assert.True(result.Fragment.Redis.AuthRequired);
        Assert.StartsWith("NOAUTH", result.Fragment.Redis.Error, StringComparison.Ordinal);
        Assert.Equal(redis.Product, result.Fragment.Product);
        Assert.Equal(string.Empty, result.Fragment.Version);
        Assert.Empty(result.Fragment.Redis.Server);
    }
}
