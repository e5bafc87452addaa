using ExposureIndex.Grabbers.Ntp;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Ntp;

public sealed class NtpParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Ntp", name);

    [Fact]
    public void Feed_NtpsecUnsynchronized_KissCodeInitAndEchoedOrigin()
    {
        var result = ParserFeeding.AllWays(() => new NtpParser(), Fixture("ntpsec-mode4-unsynchronized.bin"), canonical: r => r.Canonical());

        Assert.Equal(3, result.Leap);
        Assert.Equal(4, result.Version);
        Assert.Equal(4, result.Mode);
        Assert.Equal(0, result.Stratum);
        Assert.Equal("INIT", result.ReferenceIdText);
        Assert.Equal(-24, result.Precision);
        Assert.Equal(0xEA00000012345678UL, result.OriginTimestamp);
        Assert.Null(NtpResult.ToDateTime(result.ReferenceTimestamp));
        Assert.NotNull(NtpResult.ToDateTime(result.TransmitTimestamp));
    }

    [Fact]
    public void Feed_EveryPrefixOfAReply_NeedsMore() => ParserFeeding.PrefixesNeedMore(() => new NtpParser(), Fixture("ntpsec-mode4-unsynchronized.bin"));

    [Fact]
    public void Feed_Mode7Packet_Invalid()
    {
        var parser = new NtpParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("garbage-mode7-reply.bin")));
        Assert.Contains("mode 7", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_ControlMessageWhereAReplyIsExpected_InvalidSayingSo()
    {
        var parser = new NtpParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("ntpsec-mode6-readvar.bin")));
        Assert.Contains("control message", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_ShortReply_Invalid()
    {
        var parser = new NtpParser();
        parser.Feed(Fixture("ntpsec-mode4-unsynchronized.bin").AsSpan(0, 20));

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("20 bytes", parser.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, new byte[] { 192, 0, 2, 1 }, "192.0.2.1")]
    [InlineData(1, new byte[] { (byte)'G', (byte)'P', (byte)'S', 0 }, "GPS")]
    [InlineData(0, new byte[] { (byte)'R', (byte)'A', (byte)'T', (byte)'E' }, "RATE")]
    public void RefIdText_ByStratum_AddressOrAscii(int stratum, byte[] refId, string expected)
        => Assert.Equal(expected, NtpParser.RefIdText(stratum, refId));

    [Fact]
    public void FeedControl_NtpsecReadvar_SystemVariables()
    {
        var result = ParserFeeding.AllWays(() => new NtpControlParser(), Fixture("ntpsec-mode6-readvar.bin"), canonical: r => r.Canonical());

        Assert.True(result.IsResponse);
        Assert.False(result.IsError);
        Assert.False(result.More);
        Assert.Equal(2, result.Opcode);
        Assert.Equal(1, result.Sequence);
        Assert.Equal("ntpd ntpsec-1.2.2", result.Get("version"));
        Assert.Equal("x86_64", result.Get("processor"));
        Assert.StartsWith("Linux/", result.Get("system"), StringComparison.Ordinal);
        Assert.Equal("16", result.Get("stratum"));
        Assert.Equal("INIT", result.Get("refid"));
    }

    [Fact]
    public void FeedControl_EveryPrefixOfTheData_NeedsMore()
    {
        // The datagram is padded to a multiple of four (RFC 1305 appendix B); the message ends at 12 + count.
        var fixture = Fixture("ntpsec-mode6-readvar.bin");
        var end = NtpControlParser.HeaderLength + ((fixture[10] << 8) | fixture[11]);

        Assert.Equal(360, fixture.Length);
        ParserFeeding.PrefixesNeedMore(() => new NtpControlParser(), fixture[..end]);
    }

    [Fact]
    public void FeedControl_Count65535_InvalidFromTheHeader()
    {
        var parser = new NtpControlParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-control-count-65535.bin").AsSpan(0, 12)));
        Assert.Contains("65535", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void FeedControl_OurOwnRequest_InvalidNotAResponse()
    {
        var parser = new NtpControlParser();

        Assert.Equal(ParseStatus.Invalid, parser.Feed(NtpGrabber.BuildReadVariables(1)));
        Assert.Contains("R bit", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseVariables_QuotedCommasAndLineBreaks_SplitOnlyBetweenVariables()
    {
        var variables = NtpControlParser.ParseVariables("version=\"ntpd 4.2.8p15@1.3728-o, built\", stratum=2,\r\nrefid=192.0.2.1, flag");

        Assert.Equal(
            new KeyValuePair<string, string>[] { new("version", "ntpd 4.2.8p15@1.3728-o, built"), new("stratum", "2"), new("refid", "192.0.2.1"), new("flag", string.Empty) },
            variables);
    }

    [Theory]
    [InlineData("ntpd ntpsec-1.2.2", "NTPsec", "1.2.2", "cpe:2.3:a:ntpsec:ntpsec:1.2.2:*:*:*:*:*:*:*")]
    [InlineData("ntpd ntpsec-1.2.3+10-g1234abc 2024-01-01T00:00:00Z", "NTPsec", "1.2.3", "cpe:2.3:a:ntpsec:ntpsec:1.2.3:*:*:*:*:*:*:*")]
    [InlineData("ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)", "NTP", "4.2.8p15", "cpe:2.3:a:ntp:ntp:4.2.8p15:*:*:*:*:*:*:*")]
    public void TryParse_DaemonVersionStrings_ProductAndVersion(string text, string product, string version, string cpe)
    {
        Assert.True(NtpProducts.TryParse(text, out var parsed));
        Assert.Equal(product, parsed.Product);
        Assert.Equal(version, parsed.Version);
        Assert.Equal(cpe, parsed.Cpe23);
    }

    [Fact]
    public void TryParse_UnknownVersionString_NoProduct() => Assert.False(NtpProducts.TryParse("chrony 4.3", out _));
}
