using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Pop3;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Pop3;

public sealed class Pop3ParserTests
{
    private static Pop3Parser Create() => new();

    private static Pop3Result ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Pop3", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("dovecot-2.3.19.1.bin")]
    [InlineData("synthetic-cyrus-style.bin")]
    [InlineData("synthetic-apop-no-capa.bin")]
    [InlineData("synthetic-err-greeting.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, ProtocolFixtures.Read("Pop3", fixture));
    }

    [Fact]
    public void Feed_Dovecot_GreetingAndCapabilities()
    {
        var result = ParseAllWays("dovecot-2.3.19.1.bin");

        Assert.True(result.GreetingOk);
        Assert.Equal("Dovecot (Debian) ready.", result.Greeting);
        Assert.True(result.CapaSupported);
        Assert.Equal(["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "SASL"], result.Capabilities);
        Assert.True(result.StartTls);
        Assert.Empty(result.SaslMechanisms);
        Assert.False(result.Apop);
        Assert.EndsWith(".\r\n", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_CyrusStyle_SaslImplementationApopAndDotUnstuffing()
    {
        var result = ParseAllWays("synthetic-cyrus-style.bin");

        Assert.True(result.Apop);
        Assert.Equal(["PLAIN", "LOGIN"], result.SaslMechanisms);
        Assert.Equal("Cyrus POP3 v2.4.17", result.Implementation);
        Assert.Contains(".X-DOTSTUFFED", result.Capabilities);
        Assert.True(result.StartTls);
    }

    [Fact]
    public void Feed_CapaRefused_CompleteWithGreeting()
    {
        var result = ParseAllWays("synthetic-apop-no-capa.bin");

        Assert.False(result.CapaSupported);
        Assert.True(result.Apop);
        Assert.Empty(result.Capabilities);
    }

    [Fact]
    public void TakeOutgoing_Dovecot_CapaThenQuit()
    {
        Assert.Equal(["CAPA\r\n", "QUIT\r\n"], ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Pop3", "dovecot-2.3.19.1.bin")));
    }

    [Fact]
    public void Feed_ErrGreeting_CompleteWithoutCommands()
    {
        var parser = Create();

        Assert.Empty(ParserFeeding.Commands(parser, ProtocolFixtures.Read("Pop3", "synthetic-err-greeting.bin")));
        Assert.False(parser.Result!.GreetingOk);
        Assert.Equal("[SYS/TEMP] Server busy, try later", parser.Result.Greeting);
    }

    [Fact]
    public void End_GreetingWithoutLineEnd_CountsTheGreeting()
    {
        var parser = Create();
        Assert.Equal(ParseStatus.NeedMore, parser.Feed("+OK ready"u8));

        Assert.Equal(ParseStatus.Complete, parser.End());
        Assert.Equal("ready", parser.Result!.Greeting);
    }

    [Fact]
    public void Feed_EndlessCapaList_InvalidAtTheLineCap()
    {
        var parser = Create();
        var status = ParserFeeding.FeedEndlessly(parser, "+OK hi\r\n+OK\r\n"u8, "X-CAPABILITY\r\n"u8.ToArray());

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("512 lines", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_SshBanner_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("SSH-2.0-OpenSSH_9.2p1\r\n"u8));
        Assert.StartsWith("not a POP3 greeting", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Dovecot_ProductOsAndSection()
    {
        var record = new ServiceRecord();

        Pop3Grabber.Describe(record, ParseAllWays("dovecot-2.3.19.1.bin"));

        Assert.Equal("Dovecot", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("cpe:2.3:a:dovecot:dovecot:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.True(record.Pop3.Starttls);
        Assert.True(record.Pop3.GreetingOk);
        Assert.Equal("Dovecot (Debian) ready.", record.Pop3.Banner);
    }

    [Fact]
    public void Describe_CyrusStyle_VersionFromTheGreeting()
    {
        var record = new ServiceRecord();

        Pop3Grabber.Describe(record, ParseAllWays("synthetic-cyrus-style.bin"));

        Assert.Equal("Cyrus pop3d", record.Product);
        Assert.Equal("2.4.17", record.Version);
        Assert.Equal("Cyrus POP3 v2.4.17", record.Pop3.Implementation);
    }
}
