using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Vnc;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Vnc;

/// <summary>
/// The VNC grabber against TigerVNC's Xvnc. The RFB handshake names the protocol version and the security types,
/// not the server, so the grabber claims no product or version; the security types must match the configuration.
/// </summary>
public sealed class VncGrabberDaemonTests
{
    private static GrabContext Context(Daemon daemon) => new()
    {
        Target = new GrabTarget(daemon.Address, daemon.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_XvncWithVncAuthAndTls_VeNCryptAndVncAuthentication()
    {
        await using var xvnc = await TigerVncDaemon.StartAsync(securityTypes: "VncAuth,TLSVnc", cancellationToken: DaemonAssert.Ct);

        var result = await new VncGrabber().GrabAsync(Context(xvnc), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{xvnc.LogTail()}");
        var record = result.Fragment;
        Assert.Equal("3.8", record.Vnc.ProtocolVersion);
        Assert.Equal("VeNCrypt", record.Vnc.SecurityTypes["19"]);
        Assert.Equal("VNC Authentication", record.Vnc.SecurityTypes["2"]);
        Assert.Equal(string.Empty, record.Product);
        Assert.Equal(string.Empty, record.Version);
        await DaemonAssert.BindsOnlyItsAddressAsync(xvnc);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_XvncWithoutAuthentication_SecurityTypeNone()
    {
        await using var xvnc = await TigerVncDaemon.StartAsync(securityTypes: "None", cancellationToken: DaemonAssert.Ct);

        var result = await new VncGrabber().GrabAsync(Context(xvnc), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{xvnc.LogTail()}");
        Assert.Equal(["1"], result.Fragment.Vnc.SecurityTypes.Keys);
        Assert.Equal("None", result.Fragment.Vnc.SecurityTypes["1"]);
    }
}
