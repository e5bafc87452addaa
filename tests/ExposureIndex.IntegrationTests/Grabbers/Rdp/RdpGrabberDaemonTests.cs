using ExposureIndex.Grabbers.Rdp;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Rdp;

/// <summary>
/// The RDP grabber against Debian's xrdp. The X.224 negotiation states no version; xrdp is named by how it answers
/// an RDSTLS offer, so the record claims the product with '*' as the CPE version.
/// </summary>
public sealed class RdpGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Xrdp_ProductAndTlsSelected()
    {
        await using var xrdp = await XrdpDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new RdpGrabber(), xrdp);

        Assert.Equal(xrdp.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:neutrinolabs:xrdp:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.True(record.Rdp.Negotiation);
        Assert.Equal("SSL", record.Rdp.SelectedProtocol);
        Assert.Equal(string.Empty, record.Rdp.Failure);
        await DaemonAssert.BindsOnlyItsAddressAsync(xrdp);
    }
}
