using ExposureIndex.Grabbers.Mqtt;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Mqtt;

/// <summary>
/// The MQTT grabber against Debian's Mosquitto. CONNACK carries no software name or version, so the grabber claims
/// neither (the probe engine may); what it must get right is the return code for each anonymous-access setting.
/// </summary>
public sealed class MqttGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_MosquittoDefault_NotAuthorizedAndNoProductClaimed()
    {
        await using var mosquitto = await MosquittoDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new MqttGrabber(), mosquitto);

        Assert.Equal(5, record.Mqtt.Code);
        Assert.Equal("not authorized", record.Mqtt.CodeName);
        Assert.Equal(4, record.Mqtt.ProtocolLevel);
        Assert.Equal(string.Empty, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Empty(record.Cpe23);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_MosquittoAllowingAnonymous_AcceptedThenCleanDisconnect()
    {
        await using var mosquitto = await MosquittoDaemon.StartAsync(allowAnonymous: true, cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new MqttGrabber(), mosquitto);

        Assert.Equal(0, record.Mqtt.Code);
        Assert.True(record.Mqtt.HasCode);
        Assert.False(record.Mqtt.SessionPresent);
        // Mosquitto logs "Client <id> disconnected." for a DISCONNECT packet and "closed its connection" otherwise.
        Assert.True(
            await TestCommon.Poll.UntilAsync(() => mosquitto.LogTail(50).Contains(" disconnected.", StringComparison.Ordinal), TimeSpan.FromSeconds(10), GrabRun.Ct),
            mosquitto.LogTail());
    }
}
