using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Imap;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Imap;

public sealed class ImapParserTests
{
    private static ImapParser Create() => new();

    private static ImapResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Imap", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("dovecot-2.3.19.1.bin")]
    [InlineData("dovecot-2.3.19.1-id-version.bin")]
    [InlineData("synthetic-literal-id.bin")]
    [InlineData("synthetic-bye.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, ProtocolFixtures.Read("Imap", fixture));
    }

    [Fact]
    public void Feed_Dovecot_GreetingCapabilitiesAndId()
    {
        var result = ParseAllWays("dovecot-2.3.19.1.bin");

        Assert.Equal("OK", result.GreetingStatus);
        Assert.Equal("Dovecot (Debian) ready.", result.Greeting);
        Assert.Equal(["IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS", "LOGINDISABLED"], result.Capabilities);
        Assert.Equal(result.GreetingCapabilities, result.CommandCapabilities);
        Assert.True(result.StartTls);
        Assert.True(result.LoginDisabled);
        Assert.Empty(result.AuthMechanisms);
        Assert.Equal([new KeyValuePair<string, string>("name", "Dovecot")], result.Id);
        Assert.DoesNotContain("Logout", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_DovecotIdWithVersion_ReportsIt()
    {
        var result = ParseAllWays("dovecot-2.3.19.1-id-version.bin");

        Assert.Equal("2.3.19.1", result.IdValue("version"));
    }

    [Fact]
    public void Feed_IdWithLiteralAndEscapes_ParsesEveryPair()
    {
        var result = ParseAllWays("synthetic-literal-id.bin");

        Assert.Equal("Cyrus IMAPD", result.IdValue("name"));
        Assert.Equal("3.4.3-\"quoted\"", result.IdValue("version"));
        Assert.Null(result.IdValue("os"));
        Assert.Equal("Project Cyrus", result.IdValue("vendor"));
        Assert.Equal(["PLAIN", "GSSAPI"], result.AuthMechanisms);
        Assert.Empty(result.GreetingCapabilities);
    }

    [Fact]
    public void TakeOutgoing_Dovecot_CapabilityIdLogout()
    {
        Assert.Equal(["a001 CAPABILITY\r\n", "a002 ID NIL\r\n", "a003 LOGOUT\r\n"], ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Imap", "dovecot-2.3.19.1.bin")));
    }

    [Fact]
    public void TakeOutgoing_NoIdCapability_SkipsId()
    {
        var transcript = "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK done\r\n"u8.ToArray();

        Assert.Equal(["a001 CAPABILITY\r\n", "a003 LOGOUT\r\n"], ParserFeeding.Commands(Create(), transcript));
    }

    [Fact]
    public void Feed_ByeGreeting_CompleteWithoutCommands()
    {
        var parser = Create();

        Assert.Empty(ParserFeeding.Commands(parser, ProtocolFixtures.Read("Imap", "synthetic-bye.bin")));
        Assert.Equal("BYE", parser.Result!.GreetingStatus);
    }

    [Fact]
    public void Feed_HugeLiteral_InvalidBeforeBufferingIt()
    {
        var parser = Create();

        var status = parser.Feed("* OK ready\r\n* CAPABILITY {999999999}\r\n"u8);

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("literal", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EndlessUntaggedResponses_InvalidAtTheCap()
    {
        var parser = Create();
        var status = ParserFeeding.FeedEndlessly(parser, "* OK ready\r\n"u8, "* OK still here\r\n"u8.ToArray());

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("512 responses", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_FtpGreeting_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("220 (vsFTPd 3.0.3)\r\n"u8));
        Assert.StartsWith("not an IMAP greeting", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Dovecot_ProductFromGreeting()
    {
        var record = new ServiceRecord();

        ImapGrabber.Describe(record, ParseAllWays("dovecot-2.3.19.1.bin"));

        Assert.Equal("Dovecot", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.True(record.Imap.Starttls);
        Assert.True(record.Imap.LoginDisabled);
        Assert.Equal("Dovecot", record.Imap.Id["name"]);
    }

    [Fact]
    public void Describe_DovecotIdWithVersion_VersionAndCpe()
    {
        var record = new ServiceRecord();

        ImapGrabber.Describe(record, ParseAllWays("dovecot-2.3.19.1-id-version.bin"));

        Assert.Equal("Dovecot", record.Product);
        Assert.Equal("2.3.19.1", record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("cpe:2.3:a:dovecot:dovecot:2.3.19.1:*:*:*:*:*:*:*", record.Cpe23.Single());
    }

    [Fact]
    public void Describe_CyrusId_ProductFromIdName()
    {
        var record = new ServiceRecord();

        ImapGrabber.Describe(record, ParseAllWays("synthetic-literal-id.bin"));

        Assert.Equal("Cyrus imapd", record.Product);
        Assert.Equal("3.4.3-\"quoted\"", record.Version);
    }
}
