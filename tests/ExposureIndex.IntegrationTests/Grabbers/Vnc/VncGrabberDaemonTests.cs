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
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_XvncWithVncAuthAndTls_VeNCryptAndVncAuthentication()
    {
        await using var xvnc = await TigerVncDaemon.StartAsync(securityTypes: "VncAuth,TLSVnc", cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new VncGrabber(), xvnc);

        Assert.Equal("3.8", record.Vnc.ProtocolVersion);
        Assert.Equal("VeNCrypt", record.Vnc.SecurityTypes["19"]);
        Assert.Equal("VNC Authentication", record.Vnc.SecurityTypes["2"]);
        Assert.Equal(string.Empty, record.Product);
        Assert.Equal(string.Empty, record.Version);
        await DaemonAssert.BindsOnlyItsAddressAsync(xvnc);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_XvncWithoutAuthentication_SecurityTypeNone()
    {
        await using var xvnc = await TigerVncDaemon.StartAsync(securityTypes: "None", cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new VncGrabber(), xvnc);

        Assert.Equal(["1"], record.Vnc.SecurityTypes.Keys);
        Assert.Equal("None", record.Vnc.SecurityTypes["1"]);
    }
}
