using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Mqtt;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Mqtt;

public sealed class MqttGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void BuildConnect_AnyClientId_Mqtt311CleanSessionWithoutCredentials()
    {
        var packet = MqttGrabber.BuildConnect("exposureidx0123456789ab");

        Assert.Equal(0x10, packet[0]);
        Assert.Equal(packet.Length - 2, packet[1]);
        Assert.Equal("\0\u0004MQTT"u8.ToArray(), packet[2..8]);
        Assert.Equal(4, packet[8]);
        // Connect flags: only clean session; user name (0x80), password (0x40) and will (0x04) bits clear.
        Assert.Equal(0x02, packet[9]);
        Assert.Equal("exposureidx0123456789ab", Encoding.ASCII.GetString(packet[14..]));
    }

    [Theory]
    [InlineData(0, new byte[] { 0 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(16_383, new byte[] { 0xFF, 0x7F })]
    [InlineData(2_097_152, new byte[] { 0x80, 0x80, 0x80, 0x01 })]
    public void EncodeRemainingLength_SpecExamples_MatchMqtt311Table(int length, byte[] expected)
        => Assert.Equal(expected, MqttGrabber.EncodeRemainingLength(length));

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BrokerAccepts_ConnectThenDisconnectAndNeverSubscribes()
    {
        var accepted = ProtocolFixtures.Read("Mqtt", "mosquitto-connack-accepted.bin");
        await using var server = TestServer.Answering((_, request) => request[0] == 0x10 ? accepted : null);

        var result = await new MqttGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("mqtt", result.Fragment.Module);
        Assert.Equal(0, result.Fragment.Mqtt.Code);
        Assert.True(result.Fragment.Mqtt.HasCode);
        Assert.Equal(4, result.Fragment.Mqtt.ProtocolLevel);
        Assert.Equal(string.Empty, result.Fragment.Product);
        Assert.Equal("MQTT Connection Code: 0 (accepted)\n", result.Fragment.Data.ToStringUtf8());
        Assert.True(await Poll.UntilAsync(() => server.Received.Sum(r => r.Length) >= 2 + MqttGrabber.BuildConnect("exposureidx0123456789ab").Length, TimeSpan.FromSeconds(5), Ct));
        var sent = server.Received.SelectMany(r => r).ToArray();
        Assert.Equal(0x10, sent[0]);
        Assert.Equal(new byte[] { 0xE0, 0x00 }, sent[^2..]);
        Assert.DoesNotContain(sent, b => b == 0x82); // no SUBSCRIBE packet type anywhere
    }

    [Fact]
    public void Describe_AcceptedConnack_BannerJsonKeepsCodeZero()
    {
        // Code 0 is proto3's default; the field has presence so Shodan's "code": 0 still renders.
        var record = new ServiceRecord { Mqtt = new MqttSection() };
        MqttGrabber.Describe(record, record.Mqtt, new MqttResult(0, false, 2));

        using var json = System.Text.Json.JsonDocument.Parse(ExposureIndex.Contracts.Json.BannerJson.Serialize(record, minify: true));

        var mqtt = json.RootElement.GetProperty("mqtt");
        Assert.Equal(0, mqtt.GetProperty("code").GetInt32());
        Assert.Equal(4, mqtt.GetProperty("protocol_level").GetInt32());
        Assert.Equal("accepted", mqtt.GetProperty("code_name").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BrokerRefuses_Code5AndNoDisconnect()
    {
        var refused = ProtocolFixtures.Read("Mqtt", "mosquitto-connack-not-authorized.bin");
        await using var server = TestServer.Answering((_, _) => refused);

        var result = await new MqttGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(5, result.Fragment.Mqtt.Code);
        Assert.Equal("not authorized", result.Fragment.Mqtt.CodeName);
        Assert.Single(server.Received);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new MqttGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.False(result.Fragment.Mqtt.HasCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Garbage_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.GarbageAsync(new MqttGrabber())).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDripOfLengthBytes_EndsWithinTheDeadline()
    {
        // A CONNACK header whose remaining length keeps continuing, one byte every 300 ms.
        var result = await HostilePeers.DripAsync(new MqttGrabber(), [0x20], [0x80], TimeSpan.FromMilliseconds(300), afterRequest: true);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("four bytes", result.Error, StringComparison.Ordinal);
    }
}
