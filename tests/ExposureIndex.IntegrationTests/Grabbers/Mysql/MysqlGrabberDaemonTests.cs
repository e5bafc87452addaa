using ExposureIndex.Grabbers.Mysql;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Mysql;

/// <summary>The MySQL grabber against Debian's MariaDB.</summary>
public sealed class MysqlGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_MariaDb_ProductExactVersionAndHandshake()
    {
        await using var mariadb = await MariaDbDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new MysqlGrabber(), mariadb);

        GrabRun.AssertExactVersion(record, mariadb, "mariadb", "mariadb");
        Assert.Contains("database", record.Tags);
        Assert.Equal(10U, record.Mysql.ProtocolVersion);
        Assert.StartsWith($"5.5.5-{mariadb.Version}-MariaDB", record.Mysql.ServerVersion, StringComparison.Ordinal);
        Assert.True(record.Mysql.ThreadId > 0);
        Assert.Equal("mysql_native_password", record.Mysql.AuthenticationPlugin);
        Assert.Contains("CLIENT_PROTOCOL_41", record.Mysql.CapabilityFlags);
        Assert.True(record.Mysql.MariadbCapabilities > 0);
        Assert.Equal(0, record.Mysql.ErrorCode);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_MariaDbAllowingNoHost_ErrPacketRecorded()
    {
        await using var mariadb = await MariaDbHostDeniedDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new MysqlGrabber(), mariadb);

        Assert.Equal(1130, record.Mysql.ErrorCode);
        Assert.EndsWith("is not allowed to connect to this MariaDB server", record.Mysql.ErrorMessage, StringComparison.Ordinal);
        // The refusal names the product but not its version.
        Assert.Equal(mariadb.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal(string.Empty, record.Mysql.ServerVersion);
    }
}
