using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Postgresql;

/// <summary>Self-test of the PgBouncerDaemon fixture.</summary>
public sealed class PgBouncerDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_BindsOnlyItsAddressAndStopsCleanly()
    {
        var pgbouncer = await PgBouncerDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        try
        {
            Assert.Equal("PgBouncer", pgbouncer.Product);
            Assert.Equal(Dpkg.UpstreamVersion(pgbouncer.PackageVersion), pgbouncer.Version);
            await DaemonAssert.BindsOnlyItsAddressAsync(pgbouncer);
        }
        finally
        {
            await DaemonAssert.StopsCleanlyAsync(pgbouncer);
        }
    }
}
