using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Mqtt;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Mqtt;

/// <summary>
/// The MQTT grabber against Debian's Mosquitto. CONNACK carries no software name or version, so the grabber claims
/// neither (the probe engine may); what it must get right is the return code for each anonymous-access setting.
/// </summary>
public sealed class MqttGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_MosquittoDefault_NotAuthorizedAndNoProductClaimed()
    {
        await using var mosquitto = await MosquittoDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new MqttGrabber().GrabAsync(Context(mosquitto.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{mosquitto.LogTail()}");
        Assert.Equal(5, result.Fragment.Mqtt.Code);
        Assert.Equal("not authorized", result.Fragment.Mqtt.CodeName);
        Assert.Equal(4, result.Fragment.Mqtt.ProtocolLevel);
        Assert.Equal(string.Empty, result.Fragment.Product);
        Assert.Equal(string.Empty, result.Fragment.Version);
        Assert.Empty(result.Fragment.Cpe23);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_MosquittoAllowingAnonymous_AcceptedThenCleanDisconnect()
    {
        await using var mosquitto = await MosquittoDaemon.StartAsync(allowAnonymous: true, cancellationToken: DaemonAssert.Ct);

        var result = await new MqttGrabber().GrabAsync(Context(mosquitto.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{mosquitto.LogTail()}");
        Assert.Equal(0, result.Fragment.Mqtt.Code);
        Assert.True(result.Fragment.Mqtt.HasCode);
        Assert.False(result.Fragment.Mqtt.SessionPresent);
        // Mosquitto logs "Client <id> disconnected." for a DISCONNECT packet and "closed its connection" otherwise.
        Assert.True(
            await TestCommon.Poll.UntilAsync(() => mosquitto.LogTail(50).Contains(" disconnected.", StringComparison.Ordinal), TimeSpan.FromSeconds(10), DaemonAssert.Ct),
            mosquitto.LogTail());
    }
}
