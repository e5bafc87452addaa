using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.Grabbers.Vnc;

namespace ExposureIndex.Grabbers.Tests.Vnc;

public sealed class VncParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Vnc", name);

    [Fact]
    public void Feed_TigerVncVncAuth_VeNCryptAndVncAuthentication()
    {
        var result = ParserFeeding.AllWays(() => new VncParser(), Fixture("tigervnc-38-vencrypt-vncauth.bin"), canonical: r => r.Canonical());

        Assert.Equal("RFB 003.008", result.ServerVersion);
        Assert.Equal("RFB 003.008", result.ClientVersion);
        Assert.Equal("3.8", result.ProtocolVersion);
        Assert.Equal([19, 2], result.SecurityTypes);
        Assert.Null(result.FailureReason);
    }

    [Fact]
    public void Feed_TigerVncNone_NoAuthentication()
    {
        var result = ParserFeeding.AllWays(() => new VncParser(), Fixture("tigervnc-38-none.bin"), canonical: r => r.Canonical());

        Assert.Equal([1], result.SecurityTypes);
        Assert.Equal("None", VncResult.SecurityTypeName(1));
    }

    [Fact]
    public void Feed_Rfb33_SingleTypeAndTheChallengeIsNotRead()
    {
        var result = ParserFeeding.AllWays(() => new VncParser(), Fixture("synthetic-33-vncauth-with-challenge.bin"), canonical: r => r.Canonical());

        Assert.Equal("RFB 003.003", result.ClientVersion);
        Assert.Equal([2], result.SecurityTypes);
        Assert.Equal(16, ParserFeeding.CompletionLength(() => new VncParser(), Fixture("synthetic-33-vncauth-with-challenge.bin")));
    }

    [Fact]
    public void Feed_NoTypes_TheServersReason()
    {
        var result = ParserFeeding.AllWays(() => new VncParser(), Fixture("synthetic-38-no-types-with-reason.bin"), canonical: r => r.Canonical());

        Assert.Empty(result.SecurityTypes);
        Assert.StartsWith("Too many security failures", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_AppleRfb3889_AnsweredWith38()
    {
        var result = ParserFeeding.AllWays(() => new VncParser(), Fixture("synthetic-rfb-3889-apple.bin"), canonical: r => r.Canonical());

        Assert.Equal("3.889", result.ProtocolVersion);
        Assert.Equal("RFB 003.008", result.ClientVersion);
        Assert.Equal([30, 2], result.SecurityTypes);
    }

    [Theory]
    [InlineData("tigervnc-38-vencrypt-vncauth.bin")]
    [InlineData("tigervnc-38-none.bin")]
    [InlineData("synthetic-38-no-types-with-reason.bin")]
    public void Feed_EveryPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new VncParser(), Fixture(fixture));

    [Fact]
    public void Feed_VersionLineOnly_ClientVersionKnownBeforeCompletion()
    {
        var parser = new VncParser();

        Assert.Equal(ParseStatus.NeedMore, parser.Feed("RFB 003.007\n"u8));
        Assert.Equal("RFB 003.007\n", parser.ClientVersion);
    }

    [Theory]
    [InlineData("hostile-reason-over-cap.bin", "cap")]
    [InlineData("garbage-http.bin", "ProtocolVersion")]
    public void Feed_HostileOrGarbage_Invalid(string fixture, string expected)
    {
        var parser = new VncParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture(fixture)));
        Assert.Contains(expected, parser.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RFB 003.003", "RFB 003.003")]
    [InlineData("RFB 003.005", "RFB 003.003")]
    [InlineData("RFB 003.007", "RFB 003.007")]
    [InlineData("RFB 003.008", "RFB 003.008")]
    [InlineData("RFB 004.001", "RFB 003.008")]
    [InlineData("RFB 005.000", "RFB 003.008")]
    public void ChooseClientVersion_ServerVersion_TheVersionWeSpeak(string server, string client)
        => Assert.Equal(client, VncParser.ChooseClientVersion(server));
}
