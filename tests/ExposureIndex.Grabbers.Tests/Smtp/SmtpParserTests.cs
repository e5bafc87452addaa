using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Smtp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Smtp;

public sealed class SmtpParserTests
{
    private static SmtpParser Create() => new();

    private static SmtpResult ParseAllWays(string fixture)
        => ParserFeeding.AllWays(Create, ProtocolFixtures.Read("Smtp", fixture), canonical: ProtocolFixtures.Canonical);

    [Theory]
    [InlineData("postfix-3.7.11-debian.bin")]
    [InlineData("synthetic-exim-style.bin")]
    [InlineData("synthetic-helo-only.bin")]
    [InlineData("synthetic-554-no-service.bin")]
    public void Feed_EveryPrefixOfAFixture_NeedsMore(string fixture)
    {
        ParserFeeding.PrefixesBeforeCompletionNeedMore(Create, ProtocolFixtures.Read("Smtp", fixture));
    }

    [Fact]
    public void Feed_Postfix_GreetingAndEhloExtensions()
    {
        var result = ParseAllWays("postfix-3.7.11-debian.bin");

        Assert.Equal(220, result.GreetingCode);
        Assert.Equal(["mail.exposureindex.test ESMTP Postfix (Debian/GNU)"], result.Greeting);
        Assert.True(result.Esmtp);
        Assert.Equal("mail.exposureindex.test", result.Hostname);
        Assert.Equal(["PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"], result.Extensions);
        Assert.True(result.StartTls);
        Assert.Equal(10_240_000UL, result.MaxSize);
        Assert.Empty(result.AuthMechanisms);
        Assert.DoesNotContain("221", Encoding.Latin1.GetString(result.Banner), StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EximStyle_AuthInBothFormsMerged()
    {
        var result = ParseAllWays("synthetic-exim-style.bin");

        Assert.Equal(["PLAIN", "LOGIN", "CRAM-MD5"], result.AuthMechanisms);
        Assert.Equal(52_428_800UL, result.MaxSize);
        Assert.Equal("mx.example.test", result.Hostname);
    }

    [Fact]
    public void TakeOutgoing_EhloRefused_FallsBackToHelo()
    {
        var parser = Create();

        var commands = ParserFeeding.Commands(parser, ProtocolFixtures.Read("Smtp", "synthetic-helo-only.bin"));

        Assert.Equal(["EHLO exposureindex.invalid\r\n", "HELO exposureindex.invalid\r\n", "QUIT\r\n"], commands);
        Assert.False(parser.Result!.Esmtp);
        Assert.Equal("old.example.test", parser.Result.Hostname);
        Assert.Empty(parser.Result.Extensions);
    }

    [Fact]
    public void TakeOutgoing_Postfix_EhloThenQuitOnly()
    {
        var commands = ParserFeeding.Commands(Create(), ProtocolFixtures.Read("Smtp", "postfix-3.7.11-debian.bin"));

        Assert.Equal(["EHLO exposureindex.invalid\r\n", "QUIT\r\n"], commands);
    }

    [Fact]
    public void Feed_554Greeting_CompleteWithoutEhlo()
    {
        var parser = Create();

        var commands = ParserFeeding.Commands(parser, ProtocolFixtures.Read("Smtp", "synthetic-554-no-service.bin"));

        Assert.Equal(["QUIT\r\n"], commands);
        Assert.Equal(554, parser.Result!.GreetingCode);
        Assert.False(parser.Result.Esmtp);
    }

    [Fact]
    public void Feed_TenMegabyteEhloReply_InvalidAtTheLineCap()
    {
        var parser = Create();
        var status = ParserFeeding.FeedEndlessly(parser, "220 mx ESMTP\r\n250-mx\r\n"u8, "250-X-ENDLESS-EXTENSION\r\n"u8.ToArray());

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("512 lines", parser.Error, StringComparison.Ordinal);
        Assert.Equal(220, parser.Result!.GreetingCode);
    }

    [Fact]
    public void Feed_HttpAnswer_Invalid()
    {
        var parser = Create();

        Assert.Equal(ParseStatus.Invalid, parser.Feed("HTTP/1.1 400 Bad Request\r\n\r\n"u8));
        Assert.Null(parser.Result);
    }

    [Fact]
    public void Describe_Postfix_ProductWithoutVersionAndDebian()
    {
        var record = new ServiceRecord();

        SmtpGrabber.Describe(record, ParseAllWays("postfix-3.7.11-debian.bin"));

        Assert.Equal("Postfix", record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal("cpe:2.3:a:postfix:postfix:*:*:*:*:*:*:*:*", record.Cpe23.Single());
        Assert.True(record.Smtp.Starttls);
        Assert.Equal(10_240_000UL, record.Smtp.MaxSize);
        Assert.Equal("mail.exposureindex.test", record.Smtp.Hostname);
        Assert.StartsWith("220 mail.exposureindex.test ESMTP Postfix (Debian/GNU)\r\n250-", Encoding.Latin1.GetString(record.Data.Span), StringComparison.Ordinal);
        Assert.DoesNotContain("starttls", record.Tags);
    }

    [Fact]
    public void Describe_EximStyle_VersionFromGreeting()
    {
        var record = new ServiceRecord();

        SmtpGrabber.Describe(record, ParseAllWays("synthetic-exim-style.bin"));

        Assert.Equal("Exim", record.Product);
        Assert.Equal("4.96", record.Version);
        Assert.Equal(["PLAIN", "LOGIN", "CRAM-MD5"], record.Smtp.AuthMechanisms);
    }
}
