using ExposureIndex.Grabbers.Mqtt;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Mqtt;

public sealed class MqttParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Mqtt", name);

    [Fact]
    public void Feed_MosquittoRefusingAnonymous_NotAuthorized()
    {
        var result = ParserFeeding.AllWays(() => new MqttParser(), Fixture("mosquitto-connack-not-authorized.bin"));

        Assert.Equal(5, result.ReturnCode);
        Assert.False(result.Accepted);
        Assert.False(result.SessionPresent);
        Assert.Equal("not authorized", result.CodeName);
    }

    [Fact]
    public void Feed_MosquittoAllowingAnonymous_Accepted()
    {
        var result = ParserFeeding.AllWays(() => new MqttParser(), Fixture("mosquitto-connack-accepted.bin"));

        Assert.True(result.Accepted);
        Assert.Equal(2, result.RemainingLength);
    }

    [Fact]
    public void Feed_Mqtt5ConnackWithProperties_KeepsTheReasonCode()
    {
        var result = ParserFeeding.AllWays(() => new MqttParser(), Fixture("synthetic-mqtt5-connack-properties.bin"));

        Assert.Equal(0x87, result.ReturnCode);
        Assert.Equal("not authorized", result.CodeName);
        Assert.Equal(9, result.RemainingLength);
    }

    [Theory]
    [InlineData("mosquitto-connack-not-authorized.bin")]
    [InlineData("mosquitto-connack-accepted.bin")]
    [InlineData("synthetic-mqtt5-connack-properties.bin")]
    public void Feed_EveryPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new MqttParser(), Fixture(fixture));

    [Theory]
    [InlineData("hostile-remaining-length-five-bytes.bin", "four bytes")]
    [InlineData("hostile-remaining-length-over-cap.bin", "cap")]
    [InlineData("garbage-http-response.bin", "expected a CONNACK")]
    public void Feed_HostileOrGarbage_InvalidNamingTheProblem(string fixture, string expected)
    {
        var parser = new MqttParser();

        var status = parser.Feed(Fixture(fixture));

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains(expected, parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_ReservedFlagBits_Invalid()
    {
        var parser = new MqttParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed([0x21, 0x02, 0x00, 0x00]));
        Assert.Contains("reserved flags", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_InsideTheConnack_Invalid()
    {
        var parser = new MqttParser();
        parser.Feed([0x20, 0x02, 0x00]);

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("inside the CONNACK", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_NothingReceived_InvalidNoAnswer()
    {
        var parser = new MqttParser();

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("without answering", parser.Error, StringComparison.Ordinal);
    }
}
