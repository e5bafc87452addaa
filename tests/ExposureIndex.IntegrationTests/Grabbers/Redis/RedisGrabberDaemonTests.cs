using ExposureIndex.Grabbers.Redis;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Redis;

/// <summary>The Redis grabber against Debian's redis-server, open and password-protected.</summary>
public sealed class RedisGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_OpenRedis_ProductExactVersionAndInfo()
    {
        await using var redis = await RedisDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new RedisGrabber(), redis);

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

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_RequirePass_AuthRequiredAndNoAuthSent()
    {
        await using var redis = await RedisPasswordDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new RedisGrabber(), redis);

        Assert.True(record.Redis.AuthRequired);
        Assert.StartsWith("NOAUTH", record.Redis.Error, StringComparison.Ordinal);
        Assert.Equal(redis.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Empty(record.Redis.Server);
    }
}
