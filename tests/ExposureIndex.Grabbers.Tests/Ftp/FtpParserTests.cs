using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ftp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ftp;

public sealed class FtpParserTests
{
    private static FtpParser Create() => new();

    private static FtpResult ParseAllWays(string fixture)
    {
        var bytes = ProtocolFixtures.Read("Ftp", fixture);
        return ParserFeeding.AllWays(Create, bytes, canonical: ProtocolFixtures.Canonical);
    }

    [Theory]
    [InlineData("vsftpd-3.0.3.bin")]
    [InlineData("vsftpd-3.0.3-ssl-enable.bin")]
    [InlineData("vsftpd-3.0.3-banner-file.bin")]
    [InlineData("synthetic-rfc959-multiline.bin")]
    [InlineData("synthetic-421-busy.bin")]
    [InlineData("synthetic-feat-refused.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, ProtocolFixtures.Read("Ftp", fixture));
    }

    [Fact]
    public void Feed_Vsftpd_GreetingFeaturesAndRefusedSyst()
    {
        var result = ParseAllWays("vsftpd-3.0.3.bin");

        Assert.Equal(220, result.GreetingCode);
        Assert.Equal(["(vsFTPd 3.0.3)"], result.Greeting);
        Assert.True(result.FeatSupported);
        Assert.Equal(["EPRT", "EPSV", "MDTM", "PASV", "REST", "SIZE", "TVFS"], result.Features.Select(f => f.Name));
        Assert.Equal(["STREAM"], result.Features.Single(f => f.Name == "REST").Parameters);
        Assert.False(result.AuthTls);
        Assert.Equal(530, result.SystCode);
        Assert.Null(result.System);
        // The banner is what came before the QUIT reply, byte for byte.
        Assert.EndsWith("530 Please login with USER and PASS.\r\n", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
        Assert.StartsWith("220 (vsFTPd 3.0.3)\r\n211-Features:\r\n", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_VsftpdWithSsl_AuthTlsOffered()
    {
        var result = ParseAllWays("vsftpd-3.0.3-ssl-enable.bin");

        Assert.True(result.AuthTls);
        Assert.Equal(["TLS"], result.Features.Single(f => f.Name == "AUTH").Parameters);
        Assert.Contains(result.Features, f => f.Name == "PBSZ");
    }

    [Fact]
    public void Feed_BannerFileWithFalseEnd_KeepsEveryGreetingLine()
    {
        var result = ParseAllWays("vsftpd-3.0.3-banner-file.bin");

        Assert.Equal(["Welcome to the exposure test FTP service.", "Authorised use only.", "220 looks like an end but is not", string.Empty], result.Greeting);
        Assert.True(result.FeatSupported);
    }

    [Fact]
    public void Feed_Rfc959MultilineAfter120_ReadsTheRealGreetingAndMergesAuth()
    {
        var result = ParseAllWays("synthetic-rfc959-multiline.bin");

        Assert.Equal(220, result.GreetingCode);
        Assert.Equal("ProFTPD 1.3.8b Server (Debian) [127.0.0.1]", result.Greeting[0]);
        Assert.Equal("Welcome: this line carries no code, as RFC 959 4.2 allows", result.Greeting[1]);
        Assert.Equal("  220 indented, still inside the reply", result.Greeting[2]);
        Assert.Equal(["TLS", "SSL"], result.Features.Single(f => f.Name == "AUTH").Parameters);
        Assert.Contains(result.Features, f => f.Name == "MDTM");
        Assert.Equal(["type*;size*;modify*;"], result.Features.Single(f => f.Name == "MLST").Parameters);
        Assert.True(result.AuthTls);
        Assert.Equal("UNIX Type: L8", result.System);
        Assert.StartsWith("120 Service ready", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_421Greeting_CompletesWithoutAskingAnything()
    {
        var parser = Create();

        var commands = ParserFeeding.Commands(parser, ProtocolFixtures.Read("Ftp", "synthetic-421-busy.bin"));

        Assert.Empty(commands);
        Assert.Equal(421, parser.Result!.GreetingCode);
        Assert.False(parser.Result.FeatSupported);
    }

    [Fact]
    public void Feed_FeatRefused_StillAsksSyst()
    {
        var result = ParseAllWays("synthetic-feat-refused.bin");

        Assert.False(result.FeatSupported);
        Assert.Empty(result.Features);
        Assert.Equal("Windows_NT", result.System);
    }

    [Fact]
    public void TakeOutgoing_Vsftpd_FeatSystQuitAndNoCredentials()
    {
        var commands = ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Ftp", "vsftpd-3.0.3.bin"));

        Assert.Equal(["FEAT\r\n", "SYST\r\n", "QUIT\r\n"], commands);
    }

    [Fact]
    public void Feed_TenMegabyteMultilineGreeting_InvalidAtTheLineCap()
    {
        var parser = Create();
        var status = ParserFeeding.FeedEndlessly(parser, "220-start\r\n"u8, Encoding.ASCII.GetBytes("220-the same line again and again\r\n"));

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("512 lines", parser.Error, StringComparison.Ordinal);
        Assert.Null(parser.Result);
    }

    [Fact]
    public void Feed_LineThatNeverEnds_InvalidAtTheLengthCap()
    {
        var parser = Create();
        var status = parser.Feed("220 "u8);
        var chunk = Enumerable.Repeat((byte)'A', 1000).ToArray();
        for (var i = 0; i < 10_000 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed(chunk);
        }

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("longer than 4096", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_BinaryGarbage_Invalid()
    {
        var garbage = new byte[512];
        new Random(7).NextBytes(garbage);
        garbage[10] = (byte)'\n';

        var parser = Create();
        var status = parser.Feed(garbage);

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.StartsWith("not a numeric reply", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_ClosedAfterGreeting_CompleteWithGreetingOnly()
    {
        var parser = Create();
        Assert.Equal(ParseStatus.NeedMore, parser.Feed("220 ready\r\n"u8));

        Assert.Equal(ParseStatus.Complete, parser.End());
        Assert.False(parser.Result!.FeatSupported);
    }

    [Fact]
    public void End_ClosedInsideFeatReply_Invalid()
    {
        var parser = Create();
        parser.Feed("220 ready\r\n211-Features:\r\n EPRT\r\n"u8);

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("FEAT", parser.Error, StringComparison.Ordinal);
        Assert.Equal(220, parser.Result!.GreetingCode);
    }

    [Fact]
    public void Describe_Vsftpd_ProductVersionCpeAndSection()
    {
        var record = new ServiceRecord();

        FtpGrabber.Describe(record, ParseAllWays("vsftpd-3.0.3-ssl-enable.bin"));

        // A custom ftpd_banner hides the product: nothing is guessed.
        Assert.Equal(string.Empty, record.Product);
        Assert.True(record.Ftp.AuthTls);
        Assert.Equal(["TLS"], record.Ftp.Features["AUTH"].Parameters);

        record = new ServiceRecord();
        FtpGrabber.Describe(record, ParseAllWays("vsftpd-3.0.3.bin"));
        Assert.Equal("vsftpd", record.Product);
        Assert.Equal("3.0.3", record.Version);
        Assert.Equal(["cpe:2.3:a:beasts:vsftpd:3.0.3:*:*:*:*:*:*:*"], record.Cpe23);
        Assert.Equal("(vsFTPd 3.0.3)", record.Ftp.Banner);
        Assert.Equal(220, record.Ftp.GreetingCode);
        Assert.True(record.Ftp.FeatSupported);
        Assert.Equal(7, record.Ftp.Features.Count);
        Assert.Empty(record.Tags);
    }

    [Fact]
    public void Describe_ProFtpdStyleGreeting_VersionFromTheBanner()
    {
        var record = new ServiceRecord();

        FtpGrabber.Describe(record, ParseAllWays("synthetic-rfc959-multiline.bin"));

        Assert.Equal("ProFTPD", record.Product);
        Assert.Equal("1.3.8b", record.Version);
        Assert.Equal("cpe:2.3:a:proftpd:proftpd:1.3.8b:*:*:*:*:*:*:*", record.Cpe23.Single());
    }

    [Fact]
    public void Describe_RenderedAsShodanJson_FtpFeaturesUnderTheirNames()
    {
        var record = new ServiceRecord { Ip = "127.0.0.1", Port = 21, Transport = Transport.Tcp };
        FtpGrabber.Describe(record, ParseAllWays("vsftpd-3.0.3-ssl-enable.bin"));

        using var json = System.Text.Json.JsonDocument.Parse(ExposureIndex.Contracts.Json.BannerJson.Serialize(record));

        var ftp = json.RootElement.GetProperty("ftp");
        Assert.True(ftp.GetProperty("auth_tls").GetBoolean());
        Assert.Equal("TLS", ftp.GetProperty("features").GetProperty("AUTH").GetProperty("parameters")[0].GetString());
        Assert.Equal("STREAM", ftp.GetProperty("features").GetProperty("REST").GetProperty("parameters")[0].GetString());
    }
}
