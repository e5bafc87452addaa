using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Datastores;

/// <summary>Coordination services and stores without a deep grabber: pgbouncer, etcd, ZooKeeper, InfluxDB.</summary>
public sealed class DatastoreFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_PgBouncer_IdentifiedByItsStartupError()
    {
        await using var daemon = await PgBouncerDaemon.StartAsync(cancellationToken: Ct);
        var result = await IdentifyTcpAsync(daemon.EndPoint);
        // pgbouncer names no version before authentication (SHOW VERSION needs its admin console).
        var fingerprint = AssertIdentified(result, "pgbouncer", daemon);
        Assert.Null(fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Etcd_ProductAndExactVersion()
    {
        await using var daemon = await EtcdDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "etcd", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_ZooKeeper_ProductAndExactVersion()
    {
        await using var daemon = await ZooKeeperDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "zookeeper", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_InfluxDb_ProductAndExactVersion()
    {
        await using var daemon = await InfluxDbDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "http", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }
}
