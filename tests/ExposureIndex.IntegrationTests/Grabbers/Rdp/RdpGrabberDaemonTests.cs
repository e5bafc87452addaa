using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
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
    private static GrabContext Context(Daemon daemon) => new()
    {
        Target = new GrabTarget(daemon.Address, daemon.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Xrdp_ProductAndTlsSelected()
    {
        await using var xrdp = await XrdpDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new RdpGrabber().GrabAsync(Context(xrdp), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{xrdp.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(xrdp.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("cpe:2.3:a:neutrinolabs:xrdp:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.True(record.Rdp.Negotiation);
        Assert.Equal("SSL", record.Rdp.SelectedProtocol);
        Assert.Equal(string.Empty, record.Rdp.Failure);
        await DaemonAssert.BindsOnlyItsAddressAsync(xrdp);
    }
}
